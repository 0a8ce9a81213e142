"""`rag desk`: what a newsroom desk runs, on one machine or spread over several. A PostgreSQL from
the wheel holds the archive, N llama.cpp servers run the model and N web servers (`rag chat`)
serve the page and the API, all reading the one archive and sharing the model servers. They
start in that order (each waits for what it needs), their addresses are printed, and Ctrl-C
stops them all. A part that dies is told in one line; the rest keep serving.

    rag desk                               # PostgreSQL, 2 llama.cpp servers, 2 web servers here
    rag desk --web 0 --llm 0 --host 0.0.0.0                 # the archive's machine
    rag desk --web 0 --llm 2 --host 0.0.0.0 --no-postgres   # a model machine
    rag desk --llm 0 --store URL --llm-server URL ...       # a web machine

The archive's PostgreSQL keeps its data in `index/postgres/` (or --data), with passwords made on
first start in files beside it (0600). `desk.json` there lists the running parts and their
process ids, for the operator and the tests.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from .config import Config
from .errors import RagError
from .generate import PROMPT_BATCH
from .models import ensure_model
from .stores.address import StoreSpec

READY_WITHIN = 600  # seconds: a web server loads the embedder and opens the archive on 2 busy cores


@dataclass
class Part:
    name: str  # "postgres", "llm 1", "web 2"
    url: str
    pid: int
    log: str


def llama_server_command(model: Path, port: int, n_ctx: int, threads: int, host: str = "127.0.0.1") -> list[str]:
    """A llama-cpp-python server that answers as LlamaGenerator does: the GGUF's own chat template,
    the same prompt batches (llama.cpp's sums depend on them), no logits kept for every position
    (its default keeps n_ctx x vocab floats), and no request cutting off the running one."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", host, "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads),
            "--n_batch", str(PROMPT_BATCH), "--logits_all", "False", "--interrupt_requests", "False"]


def secret(path: Path) -> str:
    """The password kept in `path`, made on first use; only this user may read it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


class Desk:
    def __init__(self, config: Config, data: Path, host: str, say=print):
        self.config, self.data, self.host, self.say = config, data, host, say
        self.parts: list[Part] = []
        self.processes: dict[str, subprocess.Popen] = {}
        self.postgres = None
        self.env = dict(os.environ)
        (data / "logs").mkdir(parents=True, exist_ok=True)

    def start_postgres(self, port: int) -> StoreSpec:
        from .stores.postgres.local import LocalServer

        self.say(f"PostgreSQL 시작 / starting PostgreSQL in {self.data}")
        self.postgres = LocalServer.start(self.data, port, secret(self.data / "admin-password"), secret(self.data / "rag-password"),
                                          self.host)
        spec = self.postgres.database("rag")
        self.parts.append(Part("postgres", spec.url, 0, str(self.data / "log")))
        self._write()
        return spec

    def use_store(self, spec: StoreSpec) -> None:
        """The web servers and the indexing read this store; the password from its file, if it has one."""
        self.store = spec
        if spec.password_file:
            self.env["PGPASSWORD"] = spec.password_file.read_text().strip()

    def fill(self) -> None:
        """The bundled articles, if the archive is empty (`rag index`, with its progress)."""
        from . import stores

        if stores.exists(self.store, None):
            return
        self.say(f"기사 색인 / indexing {self.config.articles_dir} into {self.store.url} (first start only)")
        done = subprocess.run([sys.executable, "-m", "rag.cli", "index", str(self.config.articles_dir), "--store", self.store.url,
                               *self._config_args()], env=self.env)
        if done.returncode != 0:
            raise SystemExit(f"rag index failed ({done.returncode}); see above")

    def start_llms(self, count: int, first_port: int) -> list[str]:
        model = ensure_model(self.config.llm, self.config.cache_dir, self.say)
        threads = max(1, (os.cpu_count() or 2) // count)  # servers on one machine share its cores
        urls = []
        for i in range(count):
            port = first_port + i
            url = f"http://{_reach(self.host)}:{port}"
            command = llama_server_command(model, port, self.config.settings.n_ctx, threads, self.host)
            self._spawn(f"llm {i + 1}", url, command)
            urls.append(url)
        for url in urls:
            self._wait(url + "/v1/models")
        return urls

    def start_webs(self, count: int, first_port: int, llm_urls: list[str], auth: str | None) -> None:
        urls = []
        for i in range(count):
            port = first_port + i
            url = f"http://{_reach(self.host)}:{port}/"
            # each web server counts only its own requests, and ties go to the first server listed:
            # listed in turn, idle web servers send their questions to different model servers
            mine = llm_urls[i % len(llm_urls):] + llm_urls[:i % len(llm_urls)]
            command = [sys.executable, "-m", "rag.cli", "chat", "--host", self.host, "--port", str(port), "--store", self.store.url,
                       *self._config_args(), *[a for u in mine for a in ("--llm-server", u)]]
            env = {**self.env, **({"RAG_AUTH": auth} if auth else {})}  # never on a command line: `ps` shows those
            self._spawn(f"web {i + 1}", url, command, env)
            urls.append(url)
        for url in urls:
            self._wait(url + "api/health")

    def _config_args(self) -> list[str]:
        return ["--config", str(self.config.source), "--profile", self.config.profile]

    def _spawn(self, name: str, url: str, command: list[str], env: dict | None = None) -> None:
        log = self.data / "logs" / f"{name.replace(' ', '-')}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env or self.env, start_new_session=True)
        self.processes[name] = process
        self.parts.append(Part(name, url, process.pid, str(log)))
        self._write()

    def _wait(self, url: str) -> None:
        part = next(p for p in self.parts if url.startswith(p.url.rstrip("/")))
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.processes[part.name].poll() is not None:
                raise SystemExit(f"{part.name} exited with {self.processes[part.name].returncode}; its log: {part.log}\n"
                                 + _tail(part.log))
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    self.say(f"  {part.name}: {part.url}")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise SystemExit(f"{part.name} not ready after {READY_WITHIN} s; its log: {part.log}")

    def _write(self) -> None:
        (self.data / "desk.json").write_text(json.dumps([asdict(p) for p in self.parts], ensure_ascii=False, indent=1))

    def watch(self) -> None:
        """Until Ctrl-C: tell once of each part that dies."""
        told: set[str] = set()
        while self.processes:
            for name, process in self.processes.items():
                if process.poll() is not None and name not in told:
                    told.add(name)
                    self.say(f"{name} stopped ({process.returncode}); the others keep serving. Its log: "
                             f"{next(p.log for p in self.parts if p.name == name)}")
            time.sleep(1)

    def stop_servers(self) -> None:
        """Stop the model and web servers; the archive stays up."""
        for process in self.processes.values():
            _signal(process, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        self.parts = [p for p in self.parts if p.name == "postgres"]
        self._write()

    def stop(self) -> None:
        self.stop_servers()
        if self.postgres:
            self.postgres.stop()
        (self.data / "desk.json").unlink(missing_ok=True)


def run_desk(config: Config, web: int, llm: int, port: int, llm_port: int, pg_port: int, host: str, data: Path,
             postgres: bool, auth: str | None, say=print) -> int:
    if host not in ("127.0.0.1", "localhost") and web and not auth:
        raise RagError(f"Web servers on {host} are open to the network: give a login with --auth USER:PASSWORD (or RAG_AUTH).")
    desk = Desk(config, data, host, say)
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if config.store is not None:
            desk.use_store(config.store)
        elif postgres:
            desk.use_store(desk.start_postgres(pg_port))
        if web:
            if config.store is None and not postgres:
                raise RagError("Web servers need the archive: give --store URL, or let the desk start PostgreSQL (without --no-postgres).")
            desk.fill()
        urls = desk.start_llms(llm, llm_port) if llm else []
        urls += list(config.llm_servers)
        if web:
            if not urls:
                raise SystemExit("web servers need llama.cpp servers: --llm N, or --llm-server URL")
            desk.start_webs(web, port, urls, auth)
        say("준비됨 / ready: " + ", ".join(f"{p.name} {p.url}" for p in desk.parts) + "  (Ctrl-C stops them all)")
        desk.watch()
    except KeyboardInterrupt:
        say("멈추는 중 / stopping")
    finally:
        desk.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def _reach(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _signal(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the server and anything it started
    except ProcessLookupError:
        pass


def _tail(log: str, chars: int = 2000) -> str:
    try:
        return Path(log).read_text(errors="replace")[-chars:]
    except OSError:
        return ""
