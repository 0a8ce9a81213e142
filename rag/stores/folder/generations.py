"""The index on disk: immutable segments, named by a generation file that is switched atomically.

    CURRENT             name of the live generation file; replaced atomically (os.replace)
    gen-<stamp>.json    the identity, the live segments, removed chunk ids, the next chunk id
    seg-<stamp>/        articles.jsonl, chunks.jsonl, tokens.jsonl, bm25.npz, and segment.json
                        (its articles' sources and chunk ids, and a SHA-256 of each file)
    vectors/            the embedding cache (vectors.py), filled in the background (backlog.py)
    .lock               held while a segment is added or merged: seconds, not the embedding

An update writes only what is new: a segment for the new articles, then a new generation
naming it, then CURRENT. A crash at any moment leaves the previous generation intact. Removed
or changed articles are listed as removed chunk ids until their segment is merged, which
happens when segments of like size pile up (`_merge_tiers`), so adding one article to a
big archive never rewrites the archive. Chunk ids are never reused.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import IndexMismatch, IndexMissing, StoreError
from ..identity import SCHEMA_VERSION, Identity
from ..plan import Entry, New
from . import segment
from .segment import write_durably

# 5: segments, BM25 per segment (sparse.py), vectors in an embedding cache (vectors.py)
MERGE_FACTOR = 4


@dataclass
class Generation:
    identity: Identity
    segments: list[str] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)
    next_chunk_id: int = 0
    built: str | None = None

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "removed": sorted(self.removed)}, ensure_ascii=False)


@dataclass
class Catalog:
    """What an update needs to know of the live index, without loading texts or vectors."""

    folder: Path
    generation: Generation
    entries: dict[str, Entry]  # live articles only


def exists(index_dir: Path) -> bool:
    return (index_dir / "CURRENT").is_file()


def empty_catalog(index_dir: Path, identity: Identity) -> Catalog:
    return Catalog(index_dir, Generation(identity), {})


def read_catalog(index_dir: Path, expected: Identity) -> Catalog:
    """The live generation and its articles' entries (the small segment.json files only)."""
    generation = read_generation(index_dir, expected)
    entries: dict[str, Entry] = {}
    for name in generation.segments:
        for aid, entry in segment.read_meta(index_dir / name)["entries"].items():
            if not set(entry.chunks) & generation.removed:
                entries[aid] = entry
    return Catalog(index_dir, generation, entries)


def read_generation(index_dir: Path, expected: Identity) -> Generation:
    if not exists(index_dir):
        raise IndexMissing(f"No index in {index_dir}: run `rag index PATH`.", "색인이 없습니다")
    path = index_dir / (index_dir / "CURRENT").read_text().strip()
    if path.name.startswith("data-"):  # the one-folder layout of schema 4 and before
        raise IndexMismatch(
            f"The index in {index_dir} was built by an older version (one data folder; needed: segments, schema "
            f"{SCHEMA_VERSION}). Rebuild it with `rag index --rebuild PATH`."
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        identity = Identity(**raw["identity"])
    except (OSError, ValueError, KeyError, TypeError):
        raise StoreError(
            f"The index in {index_dir} is missing its generation file or it is unreadable ({path.name}), or it was "
            f"built by an older version: rebuild with `rag index --rebuild PATH`.",
            "색인이 손상되었습니다",
        ) from None
    if identity != expected:
        raise IndexMismatch(
            f"The index in {index_dir} was built with {'; '.join(expected.differences(identity))}. Rebuild it "
            "with `rag index --rebuild PATH`, or use the profile/settings it was built with."
        )
    return Generation(identity, raw["segments"], set(raw["removed"]), raw["next_chunk_id"], raw.get("built"))


def write(index_dir: Path, catalog: Catalog, keep: set[str], new: New) -> Catalog:
    """Make the live index `catalog` minus articles not in `keep`, plus `new`, and switch to it.

    The caller holds `lock(index_dir)`."""
    generation = catalog.generation
    gone = {cid for aid, e in catalog.entries.items() if aid not in keep for cid in e.chunks}
    segments = list(generation.segments)
    if new.chunks or new.articles:
        segments.append(segment.write(index_dir, new).name)
    next_id = max([generation.next_chunk_id] + [c.id + 1 for c in new.chunks])
    updated = Generation(generation.identity, segments, generation.removed | gone, next_id, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    updated = _merge_tiers(index_dir, updated)
    _switch(index_dir, updated)
    entries = {aid: e for aid, e in catalog.entries.items() if aid in keep}
    entries.update(segment.entries(new))
    return Catalog(index_dir, updated, entries)


def _merge_tiers(index_dir: Path, generation: Generation) -> Generation:
    """Merge segments of like size once MERGE_FACTOR of them pile up (a log-structured merge,
    as Lucene's): adding one article merges only small segments, so it stays cheap at any
    archive size, and the number of segments stays logarithmic in it."""
    while True:
        tiers: dict[int, list[str]] = {}
        for name in generation.segments:
            size = max(1, segment.size(index_dir / name))
            tiers.setdefault(int(math.log(size, MERGE_FACTOR)), []).append(name)
        full = next((names for _, names in sorted(tiers.items()) if len(names) >= MERGE_FACTOR), None)
        if full is None:
            return generation
        generation = _merge(index_dir, generation, full)


def _merge(index_dir: Path, generation: Generation, merged: list[str]) -> Generation:
    """One segment for `merged`, without their removed chunks."""
    rows = [row for name in merged for row in segment.rows(index_dir / name, generation.removed)]
    articles = {aid: a for name in merged for aid, a in segment.articles(index_dir / name).items()}
    live = {c.article_id for c, _, _ in rows}
    new = New([a for aid, a in articles.items() if aid in live], [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    kept = [name for name in generation.segments if name not in merged]
    if new.chunks:
        kept.append(segment.write(index_dir, new).name)
    dropped = {cid for name in merged for e in segment.read_meta(index_dir / name)["entries"].values() for cid in e.chunks}
    return Generation(generation.identity, kept, generation.removed - dropped, generation.next_chunk_id, generation.built)


@contextmanager
def lock(index_dir: Path):
    """Hold the index's update lock, or fail at once if another update holds it."""
    with _flock(index_dir / ".lock") as held:
        if not held:
            raise StoreError(
                f"Another `rag index` is updating {index_dir}; wait for it to finish, then run this again.",
                "다른 색인 작업이 진행 중입니다",
            )
        _remove_stale(index_dir)
        yield


@contextmanager
def _flock(path: Path):
    """Yield True while holding an exclusive lock on `path`, False if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def embedding_lock(index_dir: Path):
    """Held by the one process embedding this index's chunks (yields False if another is)."""
    return _flock(index_dir / ".embed.lock")


def _switch(index_dir: Path, generation: Generation) -> None:
    name = f"gen-{time.time_ns()}.json"
    write_durably(index_dir / name, generation.to_json())
    pointer = index_dir / "CURRENT.tmp"
    write_durably(pointer, name)
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    _remove_stale(index_dir)


def _remove_stale(index_dir: Path) -> None:
    """Delete generations and segments the live generation does not name (old, or a crashed build's).

    A reader that opened an older generation has already read its segments into memory."""
    if not exists(index_dir):
        return
    live = (index_dir / "CURRENT").read_text().strip()
    try:
        named = set(json.loads((index_dir / live).read_text(encoding="utf-8"))["segments"])
    except (OSError, ValueError, KeyError):
        return  # damaged: keep everything for the user to look at
    for path in [*index_dir.glob("gen-*.json"), *index_dir.glob("seg-*"), *index_dir.glob("data-*")]:
        if path.name != live and path.name not in named:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


