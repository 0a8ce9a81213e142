"""`kill -9` during `rag index`: the previous index still opens and answers the same, and the
next run completes the work. The indexer runs in a real child process (with a slow fake
embedder so the kill lands mid-build) and is killed at several moments."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import store
from rag.config import Settings
from rag.index import index_paths
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
CHILD = """
import sys, time
from pathlib import Path
from rag.config import Settings
from rag.index import index_paths
from tests.fakes import FakeEmbedder

class Slow(FakeEmbedder):
    def embed_documents(self, texts, progress=None, titles=None):
        out = []
        for t in texts:  # slow enough to be killed while embedding
            time.sleep(0.02)
            out.append(super().embed_documents([t])[0])
        import numpy as np
        return np.vstack(out) if out else np.zeros((0, self.dim), np.float32)

print("started", flush=True)
index_paths([Path(sys.argv[1])], Path(sys.argv[2]), Slow(), Settings(chunk_size=200, chunk_overlap=40))
print("done", flush=True)
"""


def article(n: int, version: int) -> str:
    return f"{n}번 기사 {version}판입니다. " + " ".join(f"문장 {n}-{i} 에서 엔비디아 주가가 {i}% 움직였다." for i in range(30))


def write_corpus(folder: Path, version: int, count: int = 12) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "news.txt").write_text("\n".join(article(n, version) for n in range(count)) + "\n", encoding="utf-8")


def opened(index_dir: Path) -> store.Index:
    fake = FakeEmbedder()
    return store.open_index(index_dir, store.identity(fake.model_id, fake.dim, SETTINGS.chunk_size, SETTINGS.chunk_overlap))


@pytest.mark.parametrize("kill_after", [0.3, 0.8, 1.5, 2.5])
def test_kill_9_mid_index_keeps_the_previous_index(tmp_path, kill_after):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, version=1)
    index_paths([corpus], index_dir, FakeEmbedder(), SETTINGS)
    before = opened(index_dir)
    before_texts = sorted(a.text for a in before.articles.values())

    write_corpus(corpus, version=2)  # every article changed: the update must re-embed all
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(index_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout.readline().strip() == "started"
    time.sleep(kill_after)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(30)

    after = opened(index_dir)  # opens: the checksums match, nothing half-written is live
    texts = sorted(a.text for a in after.articles.values())
    assert texts in (before_texts, sorted(article(n, 2) for n in range(12)))
    assert all(after.articles[c.article_id].text[c.start : c.end] == c.text for c in after.chunks)

    index_paths([corpus], index_dir, FakeEmbedder(), SETTINGS)  # the next run completes the work
    final = opened(index_dir)
    assert sorted(a.text for a in final.articles.values()) == sorted(article(n, 2) for n in range(12))
    assert len(list(index_dir.glob("data-*"))) == 1  # the crashed build's folder was cleaned up
