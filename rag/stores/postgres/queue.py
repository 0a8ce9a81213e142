"""The embedding backlog of a PostgreSQL store: a queue that N workers, on N machines, drain.

A worker claims a batch in one short transaction: up to BATCH chunks without a vector, picked
with `SELECT … FOR UPDATE SKIP LOCKED`, are marked as its own (`claimed_by`, `claimed_at`), so
two workers never take the same chunk and never wait for each other. It embeds them outside
any transaction, then stores the vectors (in the cache, and on every chunk with that key) and
clears the claim in a second one. A claim is a lease: after LEASE_SECONDS it may be taken
again, so a worker killed with -9 holds its batch that long at most, and every batch it
committed before stays. A vector the cache already has (the same text embedded by another
worker, or an article added back) is taken from it, not embedded again.

The folder's backlog is one process holding a lock (folder/backlog.py); the pipeline runs either
through `Store.embed_pending`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

import numpy as np

from ...embed import Embedder
from ..address import StoreSpec
from ..base import CatchUp
from ..identity import Identity
from . import schema as pg_schema
from .schema import literal

log = logging.getLogger(__name__)
BATCH = 8  # chunks per claim: a few seconds of embedding, so a paused worker yields the cores soon
LEASE_SECONDS = 300.0  # a claim older than this is free again (a batch takes seconds; a killed worker never returns)


def work(spec: StoreSpec, identity: Identity, embedder: Embedder, progress: Callable | None = None,
         stop: threading.Event | None = None) -> CatchUp:
    """Claim, embed and store batches until no chunk is left to claim (or `stop` is set).
    `busy` in the result: chunks are left, claimed by other workers that will finish them."""
    import psycopg

    try:
        return _work(spec, identity, embedder, progress, stop)
    except psycopg.OperationalError as e:  # the server went away meanwhile: what was stored stays
        raise pg_schema.unavailable(spec, e) from None


def _work(spec: StoreSpec, identity: Identity, embedder: Embedder, progress, stop) -> CatchUp:
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    done = CatchUp()
    with pg_schema.connect(spec, autocommit=True) as conn:
        total = pending(conn)
        try:
            while not (stop is not None and stop.is_set()):
                todo = claim(conn, me, BATCH)
                if not todo:
                    break
                done.embedded += _embed(conn, identity.model_id, embedder, todo)
                if progress:
                    total = max(total, done.embedded)
                    progress("embed", done.embedded, total)
        except BaseException:  # Ctrl-C, or a failure: what was claimed is free again at once
            release(conn, me)
            raise
        done.stopped = stop is not None and stop.is_set()
        done.pending = pending(conn)
        done.busy = bool(done.pending) and not done.stopped
    return done


def claim(conn, worker: str, n: int, lease: float | None = None) -> list[tuple[int, str, str, str]]:
    """(chunk id, key, title, text) of up to n unclaimed chunks without a vector, now `worker`'s."""
    with conn.transaction():
        return conn.execute("""
            WITH picked AS (
                SELECT id FROM rag_chunks
                WHERE embedding IS NULL AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %(lease)s))
                ORDER BY id LIMIT %(n)s FOR UPDATE SKIP LOCKED)
            UPDATE rag_chunks c SET claimed_by = %(me)s, claimed_at = now()
            FROM picked, rag_articles a WHERE c.id = picked.id AND a.id = c.article_id
            RETURNING c.id, c.key, a.title, c.text""",
            {"lease": LEASE_SECONDS if lease is None else lease, "n": n, "me": worker}).fetchall()


def _embed(conn, model_id: str, embedder: Embedder, todo: list[tuple[int, str, str, str]]) -> int:
    """Embed the claimed chunks whose key the cache lacks, store them all; returns texts embedded."""
    keys = list(dict.fromkeys(key for _, key, _, _ in todo))
    known = {r[0] for r in conn.execute("SELECT key FROM rag_vectors WHERE model = %s AND key = ANY(%s)", (model_id, keys)).fetchall()}
    first = {key: (title, text) for _, key, title, text in reversed(todo)}
    need = [key for key in keys if key not in known]
    matrix = (embedder.embed_documents([first[k][1] for k in need], titles=[first[k][0] for k in need])
              if need else np.zeros((0, 0), np.float32))
    with conn.transaction():
        put(conn, model_id, need, matrix, keys)
    return len(need)


def put(conn, model_id: str, keys: list[str], matrix: np.ndarray, fill: list[str] | None = None) -> int:
    """Store vectors in the cache and on the chunks with those keys (and with the keys in
    `fill`, already cached), clearing their claims; returns the chunks filled. Vectors are
    kept rounded to float16, as the folder's FAISS index keeps them."""
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS rag_incoming (key text, embedding vector) ON COMMIT DELETE ROWS")
        with cur.copy("COPY rag_incoming (key, embedding) FROM STDIN") as copy:
            for key, row in zip(keys, half(matrix)):
                copy.write_row((key, literal(row)))
        cur.execute("INSERT INTO rag_vectors (model, key, embedding) SELECT %s, key, embedding FROM rag_incoming "
                    "ON CONFLICT DO NOTHING", (model_id,))
        wanted = list(dict.fromkeys([*keys, *(fill or [])]))
        return cur.execute("""UPDATE rag_chunks c SET embedding = v.embedding, claimed_by = NULL, claimed_at = NULL
                              FROM rag_vectors v WHERE v.model = %s AND v.key = c.key AND c.key = ANY(%s)
                              AND c.embedding IS NULL""", (model_id, wanted)).rowcount


def release(conn, worker: str) -> None:
    try:
        with conn.transaction():
            conn.execute("UPDATE rag_chunks SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = %s", (worker,))
    except Exception:  # the connection is gone: the lease frees them in time
        log.debug("could not release the claims of %s", worker)


def pending(conn) -> int:
    return conn.execute("SELECT count(*) FROM rag_chunks WHERE embedding IS NULL").fetchone()[0]


def import_vectors(spec: StoreSpec, model_id: str, keys: list[str], matrix: np.ndarray) -> int:
    """Vectors embedded elsewhere (a folder index's cache) into the store; returns the chunks
    filled. Nothing is embedded: an evaluation over a corpus the folder already embedded
    starts with every vector."""
    if not keys:
        return 0
    with pg_schema.connect(spec) as conn, conn.transaction():
        return put(conn, model_id, keys, matrix)


def half(matrix: np.ndarray) -> np.ndarray:
    """Vectors rounded to float16 and back: what the folder's FAISS index compares."""
    return np.asarray(matrix, np.float32).astype(np.float16).astype(np.float32)
