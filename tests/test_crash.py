"""`kill -9` during `rag index`: while a segment is written, the previous index still opens
and answers the same; while embedding, the new articles stay searchable by keyword and at
most the vectors since the last write are lost; the next run completes the work.

The indexer runs in a real child process and says where it is: after each embedded chunk
("embedded N", counted over the run), before each index file it writes ("writing NAME"), and
once the new segment is complete, just before CURRENT is switched ("switching"). It pauses
at the chosen moment, the parent kills it there with SIGKILL, and checks that it really was
killed, not finished, so every case proves what it names.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.stores.identity import identity
from rag.stores.folder import index_paths, reader
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
CHILD = """
import sys, time
from pathlib import Path
from rag.config import Settings
from rag.stores.folder import backlog, index_paths, segment, vectors
from rag.stores.folder import generations as store
from tests.fakes import FakeEmbedder

stop_at = sys.argv[3]

def say(where):
    print(where, flush=True)
    if where == stop_at:
        time.sleep(60)  # the parent kills the process here

class Reporting(FakeEmbedder):
    def embed_documents(self, texts, progress=None, titles=None):
        out = []
        for t in texts:
            out.append(super().embed_documents([t])[0])
            say(f"embedded {self.texts_embedded}")
        import numpy as np
        return np.vstack(out) if out else np.zeros((0, self.dim), np.float32)

write, switch = segment.write_durably, store._switch
def writing(path, text):
    say(f"writing {path.name}")
    write(path, text)
def switching(index_dir, generation):
    say("switching")
    switch(index_dir, generation)
segment.write_durably = store.write_durably = writing
store._switch = switching
vectors.FLUSH_SECONDS, backlog.BATCH = 0, 2  # a shard after every two chunks

index_paths([Path(sys.argv[1])], Path(sys.argv[2]), Reporting(), Settings(chunk_size=200, chunk_overlap=40))
print("done", flush=True)
"""
WRITING = ["writing chunks.jsonl", "writing segment.json", "switching"]


def article(n: int, version: int) -> str:
    return f"{n}번 기사 {version}판입니다. " + " ".join(f"문장 {n}-{i} 에서 엔비디아 주가가 {i}% 움직였다." for i in range(30))


def write_corpus(folder: Path, version: int, count: int = 12) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "news.txt").write_text("\n".join(article(n, version) for n in range(count)) + "\n", encoding="utf-8")


def opened(index_dir: Path) -> reader.Index:
    return reader.open_index(index_dir, identity(FakeEmbedder(), SETTINGS))


def kill_at(moment: str, corpus: Path, index_dir: Path) -> None:
    """Run the indexer in a child process and kill -9 it at `moment`; fail if it never got there."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(index_dir), moment],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seen = []
    for line in child.stdout:
        seen.append(line.strip())
        if seen[-1] == moment:
            break
    assert seen and seen[-1] == moment, f"the indexer never reached {moment!r}: {seen[-5:]}"
    assert child.poll() is None  # paused there, not finished
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("moment", WRITING)
def test_kill_9_while_writing_keeps_the_previous_index(tmp_path, moment):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, version=1)
    index_paths([corpus], index_dir, FakeEmbedder(), SETTINGS)
    before = opened(index_dir)

    write_corpus(corpus, version=2)  # every article changed
    kill_at(moment, corpus, index_dir)

    after = opened(index_dir)  # opens: the checksums match, nothing half-written is live
    assert after.generation == before.generation
    assert after.articles == before.articles and after.chunks == before.chunks and after.pending == 0
    # a build killed while writing leaves its half-written segment behind, unused ...
    assert len(list(index_dir.glob("seg-*"))) == 2

    index_paths([corpus], index_dir, FakeEmbedder(), SETTINGS)  # ... and the next run completes the work
    final = opened(index_dir)
    assert sorted(a.text for a in final.articles.values()) == sorted(article(n, 2) for n in range(12))
    assert sorted(p.name for p in index_dir.glob("seg-*")) == list(final.segments)  # the crashed one was cleaned up


@pytest.mark.slow
def test_kill_9_while_embedding_loses_only_the_vectors_since_the_last_write(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, version=1)
    kill_at("embedded 9", corpus, index_dir)  # in the fifth batch of two: four batches written

    index = opened(index_dir)  # every article is searchable by keyword already
    assert sorted(a.text for a in index.articles.values()) == sorted(article(n, 1) for n in range(12))
    assert len(index.embedded) == 8 and index.pending == len(index.chunks) - 8

    embedder = FakeEmbedder()
    index_paths([corpus], index_dir, embedder, SETTINGS)  # resumes: embeds only what is missing
    assert embedder.texts_embedded == len(index.chunks) - 8
    assert opened(index_dir).pending == 0
