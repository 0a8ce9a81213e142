"""The one interface every index store honours: what the pipeline, the page, the API and the
harness may ask of an index, whichever home it has.

Two homes implement it:
- the folder on one disk (`stores/folder/`: `FolderStore`): the default, no server needed;
- PostgreSQL with pgvector (`stores/postgres/`: `PostgresStore`): one archive shared by
  several writers, web servers and embedding workers.
Each home reads in one module and writes in others, and one class joins them; the rest of the
product opens and updates a store through `rag.stores` (its `__init__`), never a home's modules.

Both give the same answers on the same articles: the same article ids (a hash of the text),
the same incremental plan (`plan.plan`), the same chunks and BM25 words (`plan.prepare`),
BM25 with the same k1, b and idf over the whole store, and exact inner-product search over
vectors rounded to float16. What they are not asked to share is how they keep it: segments
and a generation file, or rows and transactions.

Left out on purpose: how a store is created or chosen (`rag.stores`), and anything a store does
only for itself (merging segments, leases of the embedding queue).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..types import Article, Chunk, Scope

if TYPE_CHECKING:  # only the type checker needs these: they import this module's users
    from ..config import Settings
    from ..embed import Embedder
    from ..ingest import IngestReport
    from .identity import Identity

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IndexResult:
    """What an update did: articles added, removed, unchanged; duplicates and problems of the input."""

    added: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    index: Store | None = None  # the store as it is after the update


@dataclass
class CatchUp:
    """What an embedding run did: chunks embedded, still pending, and why it stopped early."""

    embedded: int = 0
    pending: int = 0
    busy: bool = False  # another process will do the rest (holds the folder's lock, or the claims of the queue)
    stopped: bool = False


@runtime_checkable
class Store(Protocol):
    """An open index. Reads see the store as it was when opened or last refreshed (the folder)
    or as it is (PostgreSQL); `refresh` is cheap when nothing changed."""

    identity: Identity  # what it was built with; opening with another one is refused

    # --- what the page and the answer need to know ------------------------------------
    @property
    def article_count(self) -> int: ...

    @property
    def chunk_count(self) -> int: ...

    @property
    def pending(self) -> int:
        """Chunks without a vector yet: searchable by keyword only."""

    @property
    def newest(self) -> date | None:
        """The newest article's day: what "어제" and "지난주" count from, by default."""

    @property
    def outlets(self) -> list[str]:
        """The articles' outlets, most articles first (the page's outlet filter)."""

    @property
    def approximate(self) -> bool:
        """Whether `nearest` uses an approximate index unless asked for `exact`."""

    def refresh(self) -> Store:
        """This store if nothing changed since it was read, else a new object for it as it is
        now (an answer still running keeps the one it began with)."""

    # --- search ----------------------------------------------------------------------
    def keyword(self, words: list[str], n: int, scope: Scope | None = None) -> dict[int, float]:
        """{chunk id: BM25 score} of the n best chunks for these content words (in the scope's
        days and outlets, if given; statistics are always those of the whole store)."""

    def nearest(self, vector: np.ndarray, n: int, scope: Scope | None = None, exact: bool = False) -> dict[int, float]:
        """{chunk id: inner product} of the n chunks nearest to a normalized query vector."""

    def passages(self, ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        """Each live chunk of `ids` with its article: what hits and citations are made of."""

    def all_articles(self) -> Iterator[Article]:
        """Every live article (the harness's gold lookups; not for the answer path)."""

    # --- writing ---------------------------------------------------------------------
    def update(self, report: IngestReport, paths: list[Path], settings: Settings, rebuild: bool = False,
               progress: Progress | None = None) -> IndexResult:
        """Bring the store up to date with articles read from `paths`: searchable by keyword
        when this returns, vectors to follow (`embed_pending`). `result.index` is the store
        as it is now."""

    def embed_pending(self, embedder: Embedder, progress: Progress | None = None,
                      stop: threading.Event | None = None) -> CatchUp:
        """Embed chunks that have no vector yet until none is left (or `stop` is set); several
        processes may call it at once, and a kill loses at most the work in flight."""
