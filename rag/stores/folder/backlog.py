"""The folder store's embedding backlog: every live chunk without a vector gets one.

Runs after the keyword index is written (writer.py), in `rag index` or in a thread of the chat
server (`background.Background`), holding only the embedding lock: uploads and other `rag
index` runs go on meanwhile, and questions are answered with the vectors there are. Vectors are
written at least every `vectors.FLUSH_SECONDS`, so a kill -9 loses at most that much work, and
the next run picks up what is missing.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from ...embed import Embedder
from ..base import CatchUp, Progress
from ..identity import Identity
from . import generations as store
from . import segment, vectors

BATCH = 8  # chunks per embedding call: small, so a paused run (an answer is being written) yields the cores within seconds


def catch_up(
    index_dir: Path, embedder: Embedder, expected: Identity, progress: Progress | None = None,
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


def _missing(index_dir: Path, expected: Identity, where: Path) -> list[tuple[str, str, str]]:
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
