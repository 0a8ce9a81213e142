"""The index on disk: build aside, then switch atomically.

Layout of an index folder (default `index/`):

    CURRENT            name of the live data folder; replaced atomically (os.replace)
    data-<stamp>/      manifest.json, articles.jsonl, chunks.jsonl, dense.faiss, sparse/
    .lock              held while an update runs, so two updates never interleave

An update writes a complete new data folder and only then points CURRENT at it: a crash at
any moment leaves the previous index intact, and the next run simply redoes the work.
The manifest records the schema, the embedding model and chunking that built the index,
each article's fingerprint and chunks, and a SHA-256 of every file, checked at open.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .dense import DenseIndex
from .errors import IndexMismatch, IndexMissing, StoreError
from .sparse import SparseIndex
from .types import Article, Chunk

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3  # 2: BM25 k1/b tuned, chunk titles in document embeddings; 3: titles in BM25 tokens
MANIFEST = "manifest.json"


@dataclass
class Index:
    """A loaded index. `chunks[i]` is document i of the BM25 index."""

    folder: Path
    manifest: dict
    articles: dict[str, Article]
    chunks: list[Chunk]
    tokens: list[list[str]]
    dense: DenseIndex
    sparse: SparseIndex

    def __post_init__(self):
        self.position = {c.id: i for i, c in enumerate(self.chunks)}

    def chunk(self, chunk_id: int) -> Chunk:
        return self.chunks[self.position[chunk_id]]

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return [self.chunk(i) for i in self.manifest["articles"][article_id]["chunks"]]


def identity(model_id: str, dim: int, chunk_size: int, chunk_overlap: int) -> dict:
    """What an index must have been built with to be opened with these settings."""
    return {
        "schema_version": SCHEMA_VERSION,
        "embedding": {"model_id": model_id, "dim": dim},
        "chunking": {"size": chunk_size, "overlap": chunk_overlap, "sentences": "kiwi"},
    }


def exists(index_dir: Path) -> bool:
    return (index_dir / "CURRENT").is_file()


def open_index(index_dir: Path, expected: dict) -> Index:
    """Open the live index, checking that it was built as `expected` and is undamaged."""
    if not exists(index_dir):
        raise IndexMissing(f"색인이 없습니다 / No index in {index_dir}: run `rag index PATH`.")
    folder = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = _read_manifest(folder)
    _check_identity(manifest, expected, index_dir)
    _check_files(folder, manifest, index_dir)
    articles = {a["id"]: Article(**a) for a in _read_jsonl(folder / "articles.jsonl")}
    rows = list(_read_jsonl(folder / "chunks.jsonl"))
    chunks = [Chunk(r["id"], r["article_id"], r["text"], r["start"], r["end"]) for r in rows]
    return Index(
        folder=folder,
        manifest=manifest,
        articles=articles,
        chunks=chunks,
        tokens=[r["tokens"] for r in rows],
        dense=DenseIndex.load(folder / "dense.faiss"),
        sparse=SparseIndex.load(folder / "sparse"),
    )


def empty_index(index_dir: Path, expected: dict) -> Index:
    manifest = {**expected, "next_chunk_id": 0, "articles": {}, "files": {}}
    dim = expected["embedding"]["dim"]
    return Index(index_dir, manifest, {}, [], [], DenseIndex.empty(dim), SparseIndex(None))


def write_index(
    index_dir: Path,
    base: Index,
    articles: dict[str, Article],
    new_chunks: list[Chunk],
    new_tokens: list[list[str]],
    new_vectors: np.ndarray,
) -> Index:
    """Write `base` minus articles no longer listed plus the new chunks, then switch to it.

    The caller holds `lock(index_dir)`.
    """
    removed = [cid for aid, entry in base.manifest["articles"].items() if aid not in articles for cid in entry["chunks"]]
    removed_set = set(removed)
    kept = [(c, t) for c, t in zip(base.chunks, base.tokens) if c.id not in removed_set]
    chunks = [c for c, _ in kept] + new_chunks
    tokens = [t for _, t in kept] + new_tokens
    dense = base.dense.copy()  # the base stays usable (e.g. by a running server) until the switch
    dense.remove(removed)
    dense.add([c.id for c in new_chunks], new_vectors)

    chunk_ids: dict[str, list[int]] = {aid: [] for aid in articles}
    for c in chunks:
        chunk_ids[c.article_id].append(c.id)
    manifest = {
        **{k: base.manifest[k] for k in ("schema_version", "embedding", "chunking")},
        "next_chunk_id": max([base.manifest["next_chunk_id"]] + [c.id + 1 for c in new_chunks]),
        "articles": {
            aid: {"fingerprint": _sha256_text(a.text), "source": a.source, "line": a.line, "chunks": chunk_ids[aid]}
            for aid, a in articles.items()
        },
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    index = Index(index_dir, manifest, articles, chunks, tokens, dense, SparseIndex.build(tokens))
    folder = index_dir / f"data-{time.time_ns()}"
    folder.mkdir(parents=True)
    _write_jsonl(folder / "articles.jsonl", (asdict(a) for a in articles.values()))
    _write_jsonl(folder / "chunks.jsonl", ({**asdict(c), "tokens": t} for c, t in zip(chunks, tokens)))
    dense.save(folder / "dense.faiss")
    index.sparse.save(folder / "sparse")
    manifest["files"] = {p.relative_to(folder).as_posix(): _sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    _write_durably(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    _switch(index_dir, folder)
    index.folder = folder
    return index


@contextmanager
def lock(index_dir: Path):
    """Hold the index's update lock, or fail at once if another update holds it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"다른 색인 작업이 진행 중입니다 / Another `rag index` is updating {index_dir}; "
                "wait for it to finish, then run this again."
            ) from None
        _remove_stale(index_dir)
        yield


def _switch(index_dir: Path, folder: Path) -> None:
    pointer = index_dir / "CURRENT.tmp"
    _write_durably(pointer, folder.name)
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    _remove_stale(index_dir)


def _remove_stale(index_dir: Path) -> None:
    """Delete data folders that CURRENT does not point at (old ones, or a crashed build's)."""
    live = (index_dir / "CURRENT").read_text().strip() if exists(index_dir) else None
    for folder in index_dir.glob("data-*"):
        if folder.name != live:
            shutil.rmtree(folder, ignore_errors=True)


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoreError(
            f"색인이 손상되었습니다 / The index manifest in {folder} is missing or unreadable: "
            "rebuild with `rag index --rebuild PATH`."
        ) from None


def _check_identity(manifest: dict, expected: dict, index_dir: Path) -> None:
    for key in ("schema_version", "embedding", "chunking"):
        if manifest.get(key) != expected[key]:
            raise IndexMismatch(
                f"The index in {index_dir} was built with {key} = {manifest.get(key)}, but the current "
                f"settings need {expected[key]}. Rebuild it with `rag index --rebuild PATH`, or use "
                "the profile/settings it was built with."
            )


def _check_files(folder: Path, manifest: dict, index_dir: Path) -> None:
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256_file(path) != digest:
            raise StoreError(
                f"색인 파일이 손상되었습니다 / Index file {path} is missing or damaged (checksum "
                f"mismatch). Rebuild with `rag index --rebuild PATH` (index folder: {index_dir})."
            )


def _read_jsonl(path: Path):
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _write_jsonl(path: Path, rows) -> None:
    _write_durably(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _write_durably(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        os.fsync(f.fileno())  # files written by faiss and bm25s are not synced by them
        return hashlib.file_digest(f, "sha256").hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
