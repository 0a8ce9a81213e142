"""Embedding in the background: every chunk the index holds without a vector gets one.

This is the folder store's backlog (PostgreSQL's is a queue: stores/pg_queue.py); `Background`
runs either store's in a thread. Runs after the keyword index is written (index.py), in `rag
index` or in a thread of the chat server (`Background`), holding only the embedding lock: uploads and other `rag index`
runs go on meanwhile, and questions are answered with the vectors there are. Vectors are
written at least every `vectors.FLUSH_SECONDS` (vectors.py), so a kill -9 loses at most that
much work, and the next run picks up what is missing.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import segment, store, vectors
from .embed import Embedder
from .stores.base import CatchUp, Progress

log = logging.getLogger(__name__)
BATCH = 8  # chunks per embedding call: small, so a paused run (an answer is being written) yields the cores within seconds


def catch_up(
    index_dir: Path, embedder: Embedder, expected: store.Identity, progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> CatchUp:
    """Embed every live chunk that has no vector yet, writing a shard at least every
    FLUSH_SECONDS; returns at once if another process is doing it. Chunks added meanwhile (by
    this or another process) are picked up before it returns. Ctrl-C keeps what was embedded."""
    where = vectors.folder(index_dir, expected.model_id, expected.dim)
    with store.embedding_lock(index_dir) as held:
        if not held:
            return CatchUp(pending=len(_missing(index_dir, expected, where)), busy=True)
        done = CatchUp()
        while todo := _missing(index_dir, expected, where):
            done.pending = len(todo)
            stopped = _embed(todo, embedder, where, progress, stop, done)
            if stopped:
                done.stopped = True
                break
        done.pending = len(_missing(index_dir, expected, where)) if done.stopped else 0
        vectors.compact(where)
        return done


def _missing(index_dir: Path, expected: store.Identity, where: Path) -> list[tuple[str, str, str]]:
    """(key, title, text) of each live chunk whose vector is not stored, one per key."""
    if not store.exists(index_dir):
        return []
    catalog = store.read_catalog(index_dir, expected)
    stored = vectors.known_keys(where)
    todo: dict[str, tuple[str, str, str]] = {}
    for name in catalog.generation.segments:
        folder = index_dir / name
        meta = segment.read_meta(folder)
        rows = [r for r in segment.read_jsonl(segment.check_file(folder, "chunks.jsonl", meta)) if r[4] not in stored and r[0] not in catalog.generation.removed]
        if rows:  # only then are the segment's articles read
            articles = segment.articles(folder, meta)
            for _, aid, start, end, key in rows:
                todo[key] = (key, articles[aid].title, articles[aid].text[start:end])
    return list(todo.values())


def _embed(todo, embedder: Embedder, where: Path, progress: Progress | None, stop: threading.Event | None, done: CatchUp) -> bool:
    """Embed `todo` in small batches, writing a shard every FLUSH_SECONDS; True if stopped early."""
    keys: list[str] = []
    parts: list[np.ndarray] = []
    flushed = time.monotonic()

    def flush():
        nonlocal keys, parts, flushed
        if keys:
            vectors.write_shard(where, keys, np.vstack(parts))
        keys, parts, flushed = [], [], time.monotonic()

    try:
        for i in range(0, len(todo), BATCH):
            if stop is not None and stop.is_set():
                flush()
                return True
            rows = todo[i : i + BATCH]
            parts.append(embedder.embed_documents([t for _, _, t in rows], titles=[h for _, h, _ in rows]))
            keys += [k for k, _, _ in rows]
            done.embedded += len(rows)
            if time.monotonic() - flushed >= vectors.FLUSH_SECONDS:
                flush()
            if progress:
                progress("embed", min(i + BATCH, len(todo)), len(todo))
    except KeyboardInterrupt:
        flush()
        raise
    flush()
    return False


class Background:
    """A store's `embed_pending` in a thread of this process, with its progress for a page to
    show; it waits while `paused()` (an answer is being written) and stops with the process.
    `work(progress, stop)` is that call (the pipeline's current store, whichever it is)."""

    def __init__(self, work: Callable[[Progress, threading.Event], CatchUp]):
        self._work = work
        self._thread: threading.Thread | None = None
        self._again = threading.Event()  # chunks were added while a run was finishing
        self._free = threading.Event()
        self._free.set()
        self._pausing = 0
        self.stop = threading.Event()
        self.done = self.total = 0
        self.started = 0.0
        self.result: CatchUp | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._again.set()
            return
        self._thread = threading.Thread(target=self._run, name="embedding", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._again.clear()
            self.started, self.done, self.total = time.monotonic(), 0, 0
            try:
                self.result = self._work(self._progress, self.stop)
            except Exception:  # the index stays searchable by keyword; the next start retries
                log.exception("background embedding failed")
                return
            if not self._again.is_set() or self.stop.is_set():
                return

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._free.wait()  # between batches: hold while an answer is written

    @contextmanager
    def paused(self):
        self._pausing += 1
        self._free.clear()
        try:
            yield
        finally:
            self._pausing -= 1
            if not self._pausing:
                self._free.set()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> str | None:
        """"의미 검색 색인 34% · 약 40분 남음" while embedding, else None."""
        if not self.running() or not self.total:
            return None
        return eta(self.done, self.total, time.monotonic() - self.started)


def eta(done: int, total: int, seconds: float) -> str:
    """Korean progress with the time left at the pace so far.

    >>> eta(34, 100, 1236.0)
    '의미 검색 색인 34% · 약 40분 남음'
    >>> eta(0, 100, 3.0), eta(99, 100, 990.0)
    ('의미 검색 색인 0%', '의미 검색 색인 99% · 약 1분 남음')
    """
    share = f"의미 검색 색인 {100 * done // max(total, 1)}%"
    if not done:
        return share
    minutes = max(1, round(seconds / done * (total - done) / 60))
    return f"{share} · 약 {minutes}분 남음" if minutes < 90 else f"{share} · 약 {minutes / 60:.1f}시간 남음"


