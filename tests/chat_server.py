"""Start `rag chat` with the real models on a free port, over its own index and data folder."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).with_name("rag")


@dataclass
class ChatServer:
    url: str
    tmp: Path
    log: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_ready(self, timeout: float = 300) -> None:
        """The page is served at once; the models are ready when the page's status says so."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=5).read()
                break
            except OSError:
                time.sleep(1)
        while "준비됨" not in self.log_text() and time.time() < deadline:
            assert self.proc.poll() is None, self.log_text()[-3000:]
            time.sleep(1)
        assert "준비됨" in self.log_text(), self.log_text()[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def chat_server(tmp: Path, articles: list[Path] | None = None, *extra: str) -> Iterator[ChatServer]:
    """`rag chat` over an index of `articles` (default: the bundled ones) built in `tmp`."""
    config = tmp / "models.yaml"
    text = (ROOT / "models.yaml").read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^data_dir:.*$", f"data_dir: {tmp / 'data'}", text), encoding="utf-8")
    index = tmp / "index"
    sources = [str(p) for p in articles or [ROOT / "articles"]]
    subprocess.run([str(RAG), "index", *sources, "--index-dir", str(index)], cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(RAG), "chat", "--port", str(port), "--index-dir", str(index), "--config", str(config), *extra],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    server = ChatServer(f"http://127.0.0.1:{port}/", tmp, log, proc)
    try:
        yield server
    finally:
        proc.terminate()
        proc.wait(30)
