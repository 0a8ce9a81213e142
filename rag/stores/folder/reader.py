"""Reading the folder store: the live index in memory, its segments read, BM25 over them, and
the vectors embedded so far. This module only reads: `FolderStore` (the package) adds the writing.

Dense vectors arrive in the background (backlog.py), so a chunk may be searchable by BM25 before
it has a vector; `pending` counts those. `refresh` brings an open index up to date with the store
(new segments, new vector shards) reading only what is new, and returns a new object of the same
class, so an answer already running keeps the index it began with.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np

from ... import dates
from ...dense import DenseIndex
from ...sparse import Postings, SparseIndex
from ...types import Article, Chunk, Scope
from ..identity import Identity
from ..plan import Entry
from . import generations, segment, vectors


@dataclass(frozen=True)
class Segment:
    """One segment as read: every row, removed or not (the generation says which are live)."""

    name: str
    entries: dict[str, Entry]
    articles: dict[str, Article]
    chunks: list[Chunk]
    keys: list[str]
    postings: Postings


@dataclass
class Index:
    folder: Path
    generation: generations.Generation
    segments: dict[str, Segment]
    articles: dict[str, Article]  # live articles
    chunks: list[Chunk]  # live chunks
    keys: dict[int, str]  # live chunk id -> embedding key
    sparse: SparseIndex
    dense: DenseIndex
    embedded: set[int] = field(default_factory=set)  # live chunk ids with a vector in `dense`
    where: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (shard, row) of every stored vector
    stamp: tuple = ()  # what the store looked like when read
    shared: bool = False  # `dense` is still the previous index's object

    def __post_init__(self):
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self._scoped: dict[Scope, np.ndarray] = {}

    @property
    def identity(self) -> Identity:
        return self.generation.identity

    @property
    def article_count(self) -> int:
        return len(self.articles)

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    approximate = False  # FAISS scans every vector

    def refresh(self) -> Index:
        return refresh(self)

    def keyword(self, words: list[str], n: int, scope: Scope | None = None) -> dict[int, float]:
        return self.sparse.search(words, n, self._within(scope))

    def nearest(self, vector: np.ndarray, n: int, scope: Scope | None = None, exact: bool = False) -> dict[int, float]:
        return self.dense.search(vector, n, self._within(scope))

    def passages(self, ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        return {i: (c, self.articles[c.article_id]) for i in ids if (c := self.chunk(i))}

    def all_articles(self) -> Iterator[Article]:
        return iter(self.articles.values())

    def _within(self, scope: Scope | None) -> np.ndarray | None:
        """Ids of the live chunks whose article is in the scope's days and outlets (None: no
        scope); an undated article is in no period. The folder's WHERE clause."""
        if scope is None or not scope.narrows:
            return None
        if scope not in self._scoped:
            kept = {aid for aid, a in self.articles.items() if in_scope(a, scope)}
            self._scoped[scope] = np.fromiter((c.id for c in self.chunks if c.article_id in kept), dtype=np.int64)
        return self._scoped[scope]

    @property
    def pending(self) -> int:
        """Live chunks without a vector yet (searchable by BM25 only)."""
        return len(self.chunks) - len(self.embedded)

    def chunk(self, chunk_id: int) -> Chunk:
        return self.chunks[self.position[chunk_id]]

    @cached_property
    def newest(self) -> date | None:
        """The newest article's day: what "어제" and "지난주" count from, by default."""
        return max((d for a in self.articles.values() if (d := dates.day(a.date))), default=None)

    @cached_property
    def outlets(self) -> list[str]:
        """The outlets of the articles, most articles first (for the page's outlet filter)."""
        counts = Counter(a.outlet for a in self.articles.values() if a.outlet)
        return [name for name, _ in counts.most_common()]


def in_scope(article: Article, scope: Scope) -> bool:
    if scope.outlets and (article.outlet or "") not in scope.outlets:
        return False
    if scope.since is None and scope.until is None:
        return True
    day = dates.day(article.date)
    return day is not None and (scope.since or day) <= day <= (scope.until or day)


def open_index(index_dir: Path, expected: Identity, previous: Index | None = None, kind: type[Index] | None = None) -> Index:
    """Open the live index (as a `kind`: the FolderStore that adds writing), checking its
    identity and checksums; segments and vectors already in `previous` are reused, not read again."""
    stamp = _stamp(index_dir, expected)
    generation = generations.read_generation(index_dir, expected)
    reuse = previous.segments if previous and previous.identity == expected else {}
    segments = {name: reuse.get(name) or _read_segment(index_dir / name) for name in generation.segments}
    live = list(segments.values())
    chunks = [c for s in live for c in s.chunks if c.id not in generation.removed]
    keys = {c.id: k for s in live for c, k in zip(s.chunks, s.keys) if c.id not in generation.removed}
    owners = {c.article_id for c in chunks}
    articles = {aid: a for s in live for aid, a in s.articles.items() if aid in owners}
    sparse = SparseIndex([s.postings for s in live], generation.removed, expected.bm25_k1, expected.bm25_b)
    kind = kind or (type(previous) if previous is not None else Index)
    index = kind(index_dir, generation, segments, articles, chunks, keys, sparse, DenseIndex.empty(expected.dim), stamp=stamp)
    _load_vectors(index, previous if reuse else None)
    return index


def refresh(index: Index) -> Index:
    """`index` if the store has not changed since it was read, else the store as it is now."""
    if _stamp(index.folder, index.identity) == index.stamp:
        return index
    return open_index(index.folder, index.identity, previous=index)


def _stamp(index_dir: Path, identity: Identity) -> tuple:
    current = index_dir / "CURRENT"
    generation = current.read_text().strip() if current.is_file() else ""
    return generation, tuple(p.name for p in vectors.shards(vectors.folder(index_dir, identity.model_id, identity.dim)))


def _read_segment(folder: Path) -> Segment:
    meta = segment.read_meta(folder)
    articles = segment.articles(folder, meta)
    pairs = list(segment.chunks(folder, articles, meta))
    postings = Postings.load(segment.check_file(folder, "bm25.npz", meta))
    return Segment(folder.name, meta["entries"], articles, [c for c, _ in pairs], [k for _, k in pairs], postings)


def _load_vectors(index: Index, previous: Index | None) -> None:
    """Put into `index.dense` the stored vector of every live chunk that has one."""
    folder = vectors.folder(index.folder, index.identity.model_id, index.identity.dim)
    if previous is not None:
        # shared until changed: copied before the first change, so the previous index stays
        # usable by an answer still running on it (a copy of 200,000 vectors takes ~0.3 s)
        index.dense, index.shared = previous.dense, True
        # a rebuild numbers chunks from 0 again: a vector is kept only for the very same chunk
        index.embedded = {cid for cid in previous.embedded if index.keys.get(cid) == previous.keys[cid]}
        if gone := [cid for cid in previous.embedded if cid not in index.embedded]:
            _own(index).remove(gone)
        index.where = dict(previous.where)
    need: dict[str, list[int]] = defaultdict(list)
    for cid, key in index.keys.items():
        if cid not in index.embedded:
            need[key].append(cid)
    read = {shard for shard, _ in index.where.values()}
    for path in vectors.shards(folder):  # new shards: read once, keys and vectors
        if path.name not in read:
            keys, matrix = vectors.read_shard(path)
            index.where.update((key, (path.name, row)) for row, key in enumerate(keys))
            _add(index, [(cid, row) for row, key in enumerate(keys) if key in need for cid in need.pop(key)], matrix)
    older: dict[str, list[tuple[int, int]]] = defaultdict(list)  # vectors stored before (an article added back)
    for key, cids in need.items():
        if key in index.where:
            shard, row = index.where[key]
            older[shard] += [(cid, row) for cid in cids]
    for shard, rows in older.items():
        _add(index, rows, vectors.read_shard(folder / shard)[1])


def _own(index: Index) -> DenseIndex:
    if index.shared:
        index.dense, index.shared = index.dense.copy(), False
    return index.dense


def _add(index: Index, rows: list[tuple[int, int]], matrix: np.ndarray) -> None:
    if rows and len(matrix):
        _own(index).add([cid for cid, _ in rows], matrix[np.asarray([r for _, r in rows])])
        index.embedded.update(cid for cid, _ in rows)
