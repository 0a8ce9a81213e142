"""Reading the PostgreSQL store: the same searches as the folder's, in SQL (tables: schema.py).
This module only reads: `PostgresStore` (the package) adds the writing.

BM25 is computed in SQL from `rag_postings` with the folder's formula (sparse.py: Lucene's idf
ln(1 + (N - df + 0.5) / (df + 0.5)), the same k1 and b, N and average length over the whole
store, a query word counted as often as it is asked), so on the same articles the scores are the
folder's to float precision. One difference, on purpose: the folder counts removed chunks in N
and df until their segment is merged (as Lucene does), PostgreSQL deletes rows at once; the two
agree on any store built afresh and whenever the folder has merged.

Dense search is exact (inner product over every vector, in a scan) unless the URL asks for
`hnsw=true`: then pgvector's HNSW index answers, with `ef_search` candidates and iterative
scans so a scope's WHERE clause still yields n rows; `exact=True` forces the scan, for
measuring HNSW's recall against it. Vectors are stored rounded to float16, as the folder keeps
them in FAISS, so exact search ranks as the folder does.

Days and outlets are WHERE clauses on `rag_articles` (`day` is the article's Korean calendar
day; an undated article is in no period). Reads run on one autocommit connection shared by
the refreshed copies of a store; updates and embedding workers open their own.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import date
from functools import cached_property

import numpy as np

from ...types import Article, Chunk, Scope
from ..address import StoreSpec
from ..identity import Identity
from . import schema as pg_schema
from .schema import literal

ARTICLE = "a.id, a.title, a.body, a.source, a.line, a.outlet, a.author, a.url, a.date"
_JOIN = "JOIN rag_articles a ON a.id = c.article_id"  # only with a scope


class _Reader:
    """The one read connection of a store (and of its refreshed copies), reopened once if it broke."""

    def __init__(self, spec: StoreSpec):
        self.spec, self.lock, self.conn = spec, threading.Lock(), None

    def run(self, sql: str, params=None, settings: tuple[str, ...] = ()) -> list[tuple]:
        import psycopg

        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.conn is None or self.conn.closed:
                        self.conn = pg_schema.connect(self.spec, autocommit=True)
                    with self.conn.transaction():
                        for setting in settings:  # planner settings for this query only
                            self.conn.execute(setting)
                        return self.conn.execute(sql, params).fetchall()
                except psycopg.OperationalError as e:  # the server restarted, or is gone
                    self.conn = None
                    if attempt == 2:
                        raise pg_schema.unavailable(self.spec, e) from None
        raise AssertionError("unreachable")


class PostgresReader:
    identity: Identity
    approximate: bool

    def __init__(self, spec: StoreSpec, identity: Identity, reader: _Reader, stats: tuple[int, int, int, int]):
        self.spec, self.identity, self._reader = spec, identity, reader
        self.articles_live, self.chunks_live, self.words, self.version = stats
        self.approximate = spec.hnsw

    @classmethod
    def open(cls, spec: StoreSpec, expected: Identity) -> PostgresReader:
        """Open the store's index, refusing one built with another identity."""
        conn = pg_schema.connect(spec, autocommit=True)
        try:
            identity = pg_schema.check_identity(conn, spec, expected)
            if spec.hnsw:
                pg_schema.ensure_hnsw(conn)
        finally:
            conn.close()
        reader = _Reader(spec)
        return cls(spec, identity, reader, _stats(reader))

    @classmethod
    def create(cls, spec: StoreSpec, expected: Identity, rebuild: bool = False) -> PostgresReader:
        """Open the store, making its tables first if it has none (or anew, on `rebuild`)."""
        with pg_schema.connect(spec) as conn:
            pg_schema.create(conn, spec, expected, rebuild)
        return cls.open(spec, expected)

    def __repr__(self) -> str:
        return f"PostgresStore({self.spec.url}, {self.chunks_live} chunks)"

    # --- what the page and the answer need to know ------------------------------------
    @property
    def article_count(self) -> int:
        return self.articles_live

    @property
    def chunk_count(self) -> int:
        return self.chunks_live

    @property
    def pending(self) -> int:
        return self._reader.run("SELECT count(*) FROM rag_chunks WHERE embedding IS NULL")[0][0]

    @cached_property
    def newest(self) -> date | None:
        return self._reader.run("SELECT max(day) FROM rag_articles")[0][0]

    @cached_property
    def outlets(self) -> list[str]:
        rows = self._reader.run("SELECT outlet FROM rag_articles WHERE coalesce(outlet, '') <> '' "
                                "GROUP BY outlet ORDER BY count(*) DESC, outlet")
        return [r[0] for r in rows]

    def refresh(self) -> PostgresReader:
        stats = _stats(self._reader)
        if stats[3] == self.version:
            return self
        # changed: a rebuild by another process may have changed what the store was built with
        built = self._reader.run("SELECT identity FROM rag_identity")[0][0]
        pg_schema.same_identity(self.spec, self.identity, Identity(**built))
        return type(self)(self.spec, self.identity, self._reader, stats)

    # --- search ----------------------------------------------------------------------
    def keyword(self, words: list[str], n: int, scope: Scope | None = None) -> dict[int, float]:
        if not words:
            return {}
        where, params = _where(scope)
        k1, b = self.identity.bm25_k1, self.identity.bm25_b
        rows = self._reader.run(f"""
            WITH q AS (SELECT term, count(*)::float8 AS times FROM unnest(%(words)s::text[]) AS term GROUP BY term),
                 d AS (SELECT p.term, count(*)::float8 AS df FROM rag_postings p JOIN q USING (term) GROUP BY p.term),
                 s AS (SELECT chunks::float8 AS n, CASE WHEN chunks > 0 THEN words::float8 / chunks ELSE 1 END AS avgdl
                       FROM rag_stats)
            SELECT p.chunk_id, sum(q.times * ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5)) * p.tf * (%(k1)s + 1)
                                   / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * c.length / s.avgdl))) AS score
            FROM rag_postings p JOIN q USING (term) JOIN d USING (term) CROSS JOIN s
                 JOIN rag_chunks c ON c.id = p.chunk_id JOIN rag_articles a ON a.id = c.article_id
            WHERE true {where}
            GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(n)s""",
            {**params, "words": list(words), "k1": k1, "b": b, "n": n})
        return {int(i): float(s) for i, s in rows if s > 0}

    def nearest(self, vector: np.ndarray, n: int, scope: Scope | None = None, exact: bool = False) -> dict[int, float]:
        where, params = _where(scope)
        approximate = self.spec.hnsw and not exact
        # asked for HNSW, get HNSW: on a small store the planner would rather scan (and be exact)
        settings = ((f"SET LOCAL hnsw.ef_search = {int(self.spec.ef_search)}", "SET LOCAL hnsw.iterative_scan = relaxed_order",
                     "SET LOCAL enable_seqscan = off")
                    if approximate else ("SET LOCAL enable_indexscan = off",) if self.spec.hnsw else ())
        rows = self._reader.run(f"""
            SELECT c.id, -(c.embedding <#> %(v)s::vector) FROM rag_chunks c {_JOIN if where else ''}
            WHERE c.embedding IS NOT NULL {where}
            ORDER BY c.embedding <#> %(v)s::vector {'' if approximate else ', c.id'} LIMIT %(n)s""",
            {**params, "v": literal(vector), "n": n}, settings)
        ranked = sorted(((int(i), float(s)) for i, s in rows), key=lambda r: (-r[1], r[0]))  # relaxed order: sort again
        return dict(ranked)

    def passages(self, ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self._reader.run(f"SELECT c.id, c.text, c.start_at, c.end_at, {ARTICLE} FROM rag_chunks c "
                                "JOIN rag_articles a ON a.id = c.article_id WHERE c.id = ANY(%s)", (ids,))
        return {r[0]: (Chunk(r[0], r[4], r[1], r[2], r[3]), Article(*r[4:])) for r in rows}

    def all_articles(self) -> Iterator[Article]:
        return (Article(*r) for r in self._reader.run(f"SELECT {ARTICLE} FROM rag_articles a ORDER BY a.source, a.line, a.id"))


def _stats(reader: _Reader) -> tuple[int, int, int, int]:
    return tuple(int(v) for v in reader.run("SELECT articles, chunks, words, version FROM rag_stats")[0])


def _where(scope: Scope | None) -> tuple[str, dict]:
    """The scope's days and outlets as SQL on `rag_articles a` (an undated article is in no period)."""
    if scope is None or not scope.narrows:
        return "", {}
    parts = [sql for sql, value in (("AND a.day >= %(since)s", scope.since), ("AND a.day <= %(until)s", scope.until),
                                    ("AND coalesce(a.outlet, '') = ANY(%(outlets)s)", scope.outlets)) if value]
    return " ".join(parts), {"since": scope.since, "until": scope.until, "outlets": list(scope.outlets)}
