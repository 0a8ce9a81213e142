"""Writing a PostgreSQL store: the folder's plan and chunks, written in one transaction.

The articles are planned and cut (Kiwi, `index.prepare`) outside any transaction, against the
store as it was; then one transaction takes the writers' advisory lock, plans again against
the store as it is now (another `rag index` or web server may have written meanwhile: what it
added is not added twice, what it removed is not removed twice), deletes what goes, inserts
what comes with chunk ids from a sequence, fills vectors the cache already holds, recounts the
BM25 statistics and bumps the version. The transaction replaces the folder's lock: writers
wait for each other for the seconds of a write, never for each other's Kiwi pass, and a
`kill -9` at any moment loses the open transaction and nothing else.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ... import dates
from ...config import Settings
from ...ingest import IngestReport
from ..address import StoreSpec
from ..base import IndexResult
from ..identity import Identity
from ..plan import Entry, New, plan, prepare
from . import schema as pg_schema

log = logging.getLogger(__name__)
RETRIES = 3  # a deadlock with an embedding worker touching the same rows is retried


@dataclass
class _Catalog:
    """The live articles as `plan.plan` sees a folder's: {article id: Entry}."""

    entries: dict[str, Entry] = field(default_factory=dict)


def update(spec: StoreSpec, expected: Identity, report: IngestReport, paths: list[Path], settings: Settings,
           rebuild: bool = False, progress=None) -> IndexResult:
    """Bring the store up to date with `report` (read from `paths`), as the folder's writer does a
    folder; the tables are made on first use (or anew, with `rebuild`). Nothing is opened:
    `PostgresStore` (the package) does."""
    import psycopg

    with pg_schema.connect(spec) as conn:
        before = _Catalog() if rebuild else _catalog(conn, spec, expected)
        _, new, _ = plan(before, report, paths)
        cut = prepare(new, 0, settings, progress)
        for attempt in range(1, RETRIES + 1):
            try:
                with conn.transaction():
                    return _write(conn, spec, expected, report, paths, settings, rebuild, cut)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                if attempt == RETRIES:
                    raise
                log.info("update of %s met a concurrent writer; trying again", spec.url)
            except psycopg.OperationalError as e:
                raise pg_schema.unavailable(spec, e) from None
    raise AssertionError("unreachable")


def _catalog(conn, spec: StoreSpec, expected: Identity) -> _Catalog:
    if pg_schema.read_identity(conn, spec) is None:
        return _Catalog()
    pg_schema.check_identity(conn, spec, expected)
    rows = conn.execute("SELECT id, source, line FROM rag_articles").fetchall()  # the plan needs no chunk ids
    return _Catalog({aid: Entry(source, line, ()) for aid, source, line in rows})


def _write(conn, spec: StoreSpec, expected: Identity, report, paths, settings, rebuild: bool, cut: New) -> IndexResult:
    pg_schema.create(conn, spec, expected, rebuild)  # takes the writers' lock; tables made or checked
    catalog = _catalog(conn, spec, expected)
    keep, new, result = plan(catalog, report, paths)
    ready = {a.id for a in cut.articles}
    if missing := [a for a in new if a.id not in ready]:  # another writer removed them since the first plan
        extra = prepare(missing, len(cut.chunks), settings)
        cut = New(cut.articles + extra.articles, cut.chunks + extra.chunks, cut.tokens + extra.tokens, cut.keys + extra.keys)
    wanted = {a.id for a in new}
    rows = [(c, t, k) for c, t, k in zip(cut.chunks, cut.tokens, cut.keys) if c.article_id in wanted]
    _delete(conn, [aid for aid in catalog.entries if aid not in keep])
    _insert(conn, spec, expected, [a for a in cut.articles if a.id in wanted], rows)
    result.chunks = _finish(conn)
    return result


def _delete(conn, gone: list[str]) -> None:
    if gone:
        conn.execute("DELETE FROM rag_postings WHERE chunk_id IN (SELECT id FROM rag_chunks WHERE article_id = ANY(%s))", (gone,))
        conn.execute("DELETE FROM rag_articles WHERE id = ANY(%s)", (gone,))  # their chunks go with them


def _insert(conn, spec: StoreSpec, expected: Identity, articles, rows) -> None:
    """The articles, their chunks (numbered from the sequence) and postings; vectors the
    cache holds are filled in at once (an article added back is not embedded again)."""
    if not articles:
        return
    ids = [r[0] for r in conn.execute("SELECT nextval('rag_chunk_ids') FROM generate_series(1, %s)", (len(rows),)).fetchall()]
    with conn.cursor() as cur:
        with cur.copy("COPY rag_articles (id, title, body, source, line, outlet, author, url, date, published, day) FROM STDIN") as copy:
            for a in articles:
                copy.write_row((a.id, a.title, a.text, a.source, a.line, a.outlet, a.author, a.url, a.date,
                                _published(a.date), dates.day(a.date)))
        with cur.copy("COPY rag_chunks (id, article_id, text, start_at, end_at, length, key) FROM STDIN") as copy:
            for cid, (c, toks, key) in zip(ids, rows):
                copy.write_row((cid, c.article_id, c.text, c.start, c.end, len(toks), key))
        with cur.copy("COPY rag_postings (term, chunk_id, tf) FROM STDIN") as copy:
            for cid, (_, toks, _) in zip(ids, rows):
                for term, tf in Counter(toks).items():
                    copy.write_row((term, cid, float(tf)))
    if ids:
        conn.execute("UPDATE rag_chunks c SET embedding = v.embedding FROM rag_vectors v "
                     "WHERE v.model = %s AND v.key = c.key AND c.id BETWEEN %s AND %s",
                     (expected.model_id, min(ids), max(ids)))


def _finish(conn) -> int:
    """Recount what BM25's statistics are made of and bump the version readers refresh on; the
    last statement before the commit. Returns the live chunks."""
    row = conn.execute("""UPDATE rag_stats SET articles = (SELECT count(*) FROM rag_articles),
                              chunks = (SELECT count(*) FROM rag_chunks),
                              words = (SELECT coalesce(sum(length), 0) FROM rag_chunks), version = version + 1
                          RETURNING chunks""").fetchone()
    return int(row[0])


def _published(stored: str | None) -> datetime | None:
    """The stored date as a moment (a day alone: its midnight in Korea).

    >>> _published("2025-01-27"), _published(None)
    (datetime.datetime(2025, 1, 27, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=32400))), None)
    """
    if not stored:
        return None
    moment = datetime.fromisoformat(stored)
    return moment if moment.tzinfo else moment.replace(tzinfo=dates.KST)


def write_prepared(spec: StoreSpec, expected: Identity, batches) -> None:
    """A new index of already prepared articles, one transaction per batch (the benchmark's
    archives, as `index.write_prepared` makes them for the folder)."""
    with pg_schema.connect(spec) as conn:
        pg_schema.create(conn, spec, expected, rebuild=True)
        for new in batches:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.WRITERS,))
                _insert(conn, spec, expected, new.articles, list(zip(new.chunks, new.tokens, new.keys)))
                _finish(conn)
