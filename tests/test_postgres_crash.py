"""Several writers and workers on one PostgreSQL store, and `kill -9` of each at a named moment:
transactions replace the folder's lock, and a killed process loses its open transaction only.

As in test_crash.py, the child process says where it is ("inserting", "committing" inside the
update's transaction; "embedded N" for each chunk a worker embeds), pauses at the chosen
moment, and the parent kills it there with SIGKILL after checking it did not finish.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from rag.config import Settings
from rag.stores.identity import identity
from rag.stores.postgres import queue as pg_queue
from rag.stores.postgres import PostgresStore

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np
from rag.config import Settings
from rag.ingest import read_paths
from rag.stores.identity import identity
from rag.stores.postgres import queue as pg_queue
from rag.stores.postgres import writer as pg_write
from rag.stores.address import StoreSpec
from tests.fakes import FakeEmbedder

job, raw, stop_at, paths = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], [Path(p) for p in sys.argv[4:]]
spec = StoreSpec(**{**raw, "password_file": Path(raw["password_file"])})

def say(where):
    print(where, flush=True)
    if where == stop_at:
        time.sleep(60)  # the parent kills the process here

class Reporting(FakeEmbedder):
    def embed_documents(self, texts, progress=None, titles=None):
        out = []
        for t in texts:
            out.append(super().embed_documents([t])[0])
            time.sleep(0.1)
            say(f"embedded {self.texts_embedded}")
        return np.vstack(out) if out else np.zeros((0, self.dim), np.float32)

insert, finish = pg_write._insert, pg_write._finish
def inserting(*args):
    say("inserting")
    insert(*args)
def finishing(conn):
    say("committing")
    return finish(conn)
pg_write._insert, pg_write._finish = inserting, finishing
pg_queue.BATCH = 2

embedder, settings = Reporting(), Settings(chunk_size=200, chunk_overlap=40)
if job == "index":
    result = pg_write.update(spec, identity(embedder, settings), read_paths(paths), paths, settings)
    print("added", result.added, flush=True)
else:
    done = pg_queue.work(spec, identity(embedder, settings), embedder)
    print("worked", done.embedded, done.busy, flush=True)
print("done", flush=True)
"""


def article(n: int, version: int) -> str:
    return f"{n}번 기사 {version}판입니다. " + " ".join(f"문장 {n}-{i} 에서 엔비디아 주가가 {i}% 움직였다." for i in range(30))


def write_corpus(folder: Path, version: int, count: int = 12, name: str = "news.txt", first: int = 0) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("\n".join(article(n, version) for n in range(first, first + count)) + "\n", encoding="utf-8")
    return folder / name


def child(job: str, spec, moment: str, *paths: Path) -> subprocess.Popen:
    raw = {**spec.__dict__, "password_file": str(spec.password_file)}
    return subprocess.Popen([sys.executable, "-c", CHILD, job, json.dumps(raw), moment, *map(str, paths)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def kill_at(moment: str, process: subprocess.Popen) -> None:
    seen = []
    for line in process.stdout:
        seen.append(line.strip())
        if seen[-1] == moment:
            break
    assert seen and seen[-1] == moment, f"the child never reached {moment!r}: {seen[-5:]}"
    assert process.poll() is None  # paused there, not finished
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def finished(process: subprocess.Popen) -> list[str]:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return out.splitlines()


def opened(spec) -> PostgresStore:
    return PostgresStore.open(spec, identity(FakeEmbedder(), SETTINGS))


def texts(store: PostgresStore) -> list[str]:
    return sorted(a.text for a in store.all_articles())


def consistent(spec) -> None:
    """The statistics BM25 reads agree with the rows; every chunk is a span of its article."""
    from rag.stores.postgres.schema import connect

    with connect(spec) as conn:
        stats = conn.execute("SELECT articles, chunks, words FROM rag_stats").fetchone()
        rows = conn.execute("SELECT (SELECT count(*) FROM rag_articles), (SELECT count(*) FROM rag_chunks), "
                            "(SELECT coalesce(sum(length), 0) FROM rag_chunks)").fetchone()
        assert stats == rows
        assert conn.execute("SELECT count(*) FROM rag_chunks c JOIN rag_articles a ON a.id = c.article_id "
                            "WHERE substr(a.body, c.start_at + 1, c.end_at - c.start_at) <> c.text").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM rag_postings p LEFT JOIN rag_chunks c ON c.id = p.chunk_id "
                            "WHERE c.id IS NULL").fetchone()[0] == 0


@pytest.mark.parametrize("moment", ["inserting", "committing"])
def test_kill_9_of_a_writer_keeps_the_store_as_it_was(tmp_path, pg_spec, moment):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, version=1)
    assert finished(child("index", pg_spec, "", corpus))[-1] == "done"
    before = opened(pg_spec)
    write_corpus(corpus, version=2)  # every article changed
    kill_at(moment, child("index", pg_spec, moment, corpus))
    after = opened(pg_spec)
    assert texts(after) == texts(before) and after.version == before.version and after.chunk_count == before.chunk_count
    consistent(pg_spec)
    assert "added 12" in finished(child("index", pg_spec, "", corpus))  # the next run does the work
    assert texts(opened(pg_spec)) == sorted(article(n, 2) for n in range(12))
    consistent(pg_spec)


def test_kill_9_of_a_worker_loses_only_its_batch(tmp_path, pg_spec, monkeypatch):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, version=1)
    finished(child("index", pg_spec, "", corpus))
    total = opened(pg_spec).pending
    kill_at("embedded 9", child("embed", pg_spec, "embedded 9", corpus))  # in its fifth batch of two
    store = opened(pg_spec)
    assert store.pending == total - 8  # four batches were committed

    embedder = FakeEmbedder()
    done = store.embed_pending(embedder)  # the killed worker's claim is still leased: left alone
    assert (done.embedded, done.pending, done.busy) == (total - 10, 2, True)
    monkeypatch.setattr(pg_queue, "LEASE_SECONDS", 0.0)  # ... until its lease runs out
    done = store.embed_pending(embedder)
    assert (done.embedded, done.pending, done.busy) == (2, 0, False) and embedder.texts_embedded == total - 8


def test_two_writers_at_once_add_everything_once(tmp_path, pg_spec):
    shared = write_corpus(tmp_path / "corpus", version=1, count=6, name="shared.txt")
    a = write_corpus(tmp_path / "corpus", version=1, count=6, name="a.txt", first=100)
    b = write_corpus(tmp_path / "corpus", version=1, count=6, name="b.txt", first=200)
    writers = [child("index", pg_spec, "", shared, a), child("index", pg_spec, "", shared, b)]
    added = [int(next(x for x in finished(w) if x.startswith("added")).split()[1]) for w in writers]
    assert sorted(added) == [6, 12]  # the shared file was added by whichever came first
    store = opened(pg_spec)
    assert store.article_count == 18 and len(texts(store)) == len(set(texts(store))) == 18
    consistent(pg_spec)


def test_two_workers_share_the_backlog(tmp_path, pg_spec):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, version=1, count=8)
    finished(child("index", pg_spec, "", corpus))
    total = opened(pg_spec).pending
    workers = [child("embed", pg_spec, "", corpus) for _ in range(2)]
    counts = [int(next(x for x in finished(w) if x.startswith("worked")).split()[1]) for w in workers]
    assert sum(counts) == total and all(counts)  # both worked, no chunk was embedded twice
    assert opened(pg_spec).pending == 0
