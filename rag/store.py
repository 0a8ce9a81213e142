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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from .dense import DenseIndex
from .errors import IndexMismatch, IndexMissing, StoreError
from .sparse import SparseIndex
from .types import Article, Chunk

log = logging.getLogger(__name__)
# 2: BM25 k1/b tuned, chunk titles in document embeddings; 3: titles in BM25 tokens;
# 4: the identity is one object that also names the BM25 words (tag set) and k1/b
SCHEMA_VERSION = 4
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Identity:
    """What an index was built with; it opens only with the same. Whatever changes the stored
    vectors or BM25 words belongs here, so no hand-bumped number has to notice a change."""

    model_id: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    sentences: str  # the sentence splitter chunks are cut on
    words: dict  # how BM25 words are cut (korean.identity())
    bm25_k1: float
    bm25_b: float
    schema_version: int

    def differences(self, other: Identity) -> list[str]:
        """"name = what `other` was built with (needed: ours)" for each field that differs."""
        return [
            f"{f.name} = {getattr(other, f.name)!r} (needed: {getattr(self, f.name)!r})"
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


@dataclass(frozen=True)
class Entry:
    """An article as the manifest records it: what its text hashed to, where it came from, its chunks."""

    fingerprint: str
    source: str
    line: int | None
    chunks: tuple[int, ...]


@dataclass
class Manifest:
    identity: Identity
    next_chunk_id: int = 0
    articles: dict[str, Entry] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path in the data folder -> SHA-256
    built: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, raw: dict) -> Manifest:
        return cls(
            identity=Identity(**raw["identity"]),
            next_chunk_id=raw["next_chunk_id"],
            articles={aid: Entry(e["fingerprint"], e["source"], e["line"], tuple(e["chunks"])) for aid, e in raw["articles"].items()},
            files=raw["files"],
            built=raw.get("built"),
        )


@dataclass
class Index:
    """A loaded index. `chunks[i]` is document i of the BM25 index."""

    folder: Path
    manifest: Manifest
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
        return [self.chunk(i) for i in self.manifest.articles[article_id].chunks]


def exists(index_dir: Path) -> bool:
    return (index_dir / "CURRENT").is_file()


def open_index(index_dir: Path, expected: Identity) -> Index:
    """Open the live index, checking that it was built as `expected` and is undamaged."""
    if not exists(index_dir):
        raise IndexMissing(f"No index in {index_dir}: run `rag index PATH`.", "색인이 없습니다")
    folder = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = _read_manifest(folder)
    _check_identity(manifest.identity, expected, index_dir)
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


def empty_index(index_dir: Path, identity: Identity) -> Index:
    return Index(index_dir, Manifest(identity), {}, [], [], DenseIndex.empty(identity.dim), SparseIndex(None))


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
    removed = [cid for aid, entry in base.manifest.articles.items() if aid not in articles for cid in entry.chunks]
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
    identity = base.manifest.identity
    manifest = Manifest(
        identity=identity,
        next_chunk_id=max([base.manifest.next_chunk_id] + [c.id + 1 for c in new_chunks]),
        articles={aid: Entry(_sha256_text(a.text), a.source, a.line, tuple(chunk_ids[aid])) for aid, a in articles.items()},
        built=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    sparse = SparseIndex.build(tokens, identity.bm25_k1, identity.bm25_b)
    index = Index(index_dir, manifest, articles, chunks, tokens, dense, sparse)
    folder = index_dir / f"data-{time.time_ns()}"
    folder.mkdir(parents=True)
    _write_jsonl(folder / "articles.jsonl", (asdict(a) for a in articles.values()))
    _write_jsonl(folder / "chunks.jsonl", ({**asdict(c), "tokens": t} for c, t in zip(chunks, tokens)))
    dense.save(folder / "dense.faiss")
    sparse.save(folder / "sparse")
    manifest.files = {p.relative_to(folder).as_posix(): _sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    _write_durably(folder / MANIFEST, manifest.to_json())
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
                f"Another `rag index` is updating {index_dir}; wait for it to finish, then run this again.",
                "다른 색인 작업이 진행 중입니다",
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


def _read_manifest(folder: Path) -> Manifest:
    try:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if (old := raw.get("schema_version")) is not None:  # before schema 4, flat at the top
            raise IndexMismatch(
                f"The index in {folder.parent} was built by an older version (schema_version = {old}; "
                f"needed: {SCHEMA_VERSION}). Rebuild it with `rag index --rebuild PATH`."
            )
        return Manifest.from_dict(raw)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise StoreError(
            f"The index manifest in {folder} is missing or unreadable: rebuild with `rag index --rebuild PATH`.",
            "색인이 손상되었습니다",
        ) from None


def _check_identity(built: Identity, expected: Identity, index_dir: Path) -> None:
    if built != expected:
        raise IndexMismatch(
            f"The index in {index_dir} was built with {'; '.join(expected.differences(built))}. Rebuild it "
            "with `rag index --rebuild PATH`, or use the profile/settings it was built with."
        )


def _check_files(folder: Path, manifest: Manifest, index_dir: Path) -> None:
    for name, digest in manifest.files.items():
        path = folder / name
        if not path.is_file() or _sha256_file(path) != digest:
            raise StoreError(
                f"Index file {path} is missing or damaged (checksum mismatch). Rebuild with "
                f"`rag index --rebuild PATH` (index folder: {index_dir}).",
                "색인 파일이 손상되었습니다",
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
