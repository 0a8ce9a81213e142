"""PostgreSQL: connecting (the password, one clear line for each fault), the tables, and the
index identity stored in them.

    rag_identity   one row: the Identity (model, dimension, chunking, words, k1, b, schema)
    rag_stats      one row: live articles, chunks and BM25 words, and a version bumped by each update
    rag_articles   every field of an Article; `date` as stored, `published` and `day` (KST) for filters
    rag_chunks     id, article, text and offsets, BM25 length, embedding key, the vector (NULL until
                   embedded), and the queue's claim (claimed_by, claimed_at)
    rag_postings   (term, chunk, tf): BM25's inverted lists
    rag_vectors    the embedding cache: (model, key) -> vector, kept across rebuilds, as the folder's

A fault gets one line naming what to do (StoreUnavailable), never a traceback, a password or
the driver's own words alone.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace

import numpy as np

from ...errors import ConfigError, IndexMismatch, IndexMissing, StoreError, StoreUnavailable
from ..address import StoreSpec, redact
from ..identity import Identity

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1  # of these tables; part of the identity, as the folder's file layout is
WRITERS = 7_261_671  # the advisory lock every update holds for its transaction ("rag" writers)

TABLES = """
CREATE TABLE rag_identity (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), identity jsonb NOT NULL,
    built timestamptz NOT NULL DEFAULT now());
CREATE TABLE rag_stats (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), articles bigint NOT NULL DEFAULT 0,
    chunks bigint NOT NULL DEFAULT 0, words bigint NOT NULL DEFAULT 0, version bigint NOT NULL DEFAULT 0);
INSERT INTO rag_stats DEFAULT VALUES;
CREATE TABLE rag_articles (id text PRIMARY KEY, title text NOT NULL, body text NOT NULL, source text NOT NULL,
    line integer, outlet text, author text, url text, date text, published timestamptz, day date);
CREATE INDEX rag_articles_day ON rag_articles (day);
CREATE INDEX rag_articles_outlet ON rag_articles (outlet);
CREATE TABLE rag_chunks (id bigint PRIMARY KEY, article_id text NOT NULL REFERENCES rag_articles ON DELETE CASCADE,
    text text NOT NULL, start_at integer NOT NULL, end_at integer NOT NULL, length integer NOT NULL, key text NOT NULL,
    embedding vector({dim}), claimed_by text, claimed_at timestamptz);
CREATE INDEX rag_chunks_article ON rag_chunks (article_id);
CREATE INDEX rag_chunks_key ON rag_chunks (key);
CREATE INDEX rag_chunks_backlog ON rag_chunks (id) WHERE embedding IS NULL;
CREATE TABLE rag_postings (term text NOT NULL, chunk_id bigint NOT NULL, tf real NOT NULL, PRIMARY KEY (term, chunk_id));
CREATE INDEX rag_postings_chunk ON rag_postings (chunk_id);
CREATE SEQUENCE rag_chunk_ids;
"""
CACHE = "CREATE TABLE IF NOT EXISTS rag_vectors (model text NOT NULL, key text NOT NULL, embedding vector NOT NULL, PRIMARY KEY (model, key))"
DROP = "DROP TABLE IF EXISTS rag_postings, rag_chunks, rag_articles, rag_stats, rag_identity; DROP SEQUENCE IF EXISTS rag_chunk_ids"
HNSW = "CREATE INDEX IF NOT EXISTS rag_chunks_hnsw ON rag_chunks USING hnsw (embedding vector_ip_ops)"


def stored_identity(expected: Identity) -> Identity:
    """What a PostgreSQL store of `expected` records: the same, with this table layout's version."""
    return replace(expected, schema_version=SCHEMA_VERSION)


def connect(spec: StoreSpec, autocommit: bool = False):
    """A connection to the store's database with its schema first on the search path."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError("A PostgreSQL store needs psycopg: pip install -e '.[postgres]'.") from None
    options = {"host": spec.host, "port": spec.port, "dbname": spec.database, "user": spec.user, "connect_timeout": 5,
               "application_name": "rag", "options": f"-c search_path={spec.schema},public"}
    if spec.password_file:
        options["password"] = _password(spec)
    try:
        return psycopg.connect(autocommit=autocommit, **options)
    except psycopg.Error as e:
        raise unavailable(spec, e) from None


def _password(spec: StoreSpec) -> str:
    try:
        return spec.password_file.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        raise ConfigError(f"The password file {spec.password_file} for {spec.url} cannot be read or is empty.") from None


def unavailable(spec: StoreSpec, error: Exception) -> StoreError:
    """One line for a driver error: what is wrong with which server, and what to do."""
    state = getattr(error, "sqlstate", None) or ""
    text = " ".join(str(error).split())
    where = f"PostgreSQL at {spec.host}:{spec.port}"
    if state in ("28P01", "28000") or "password" in text:
        return StoreUnavailable(
            f"{where} refused the login of user '{spec.user}': set the right password in PGPASSWORD, PGPASSFILE or the "
            "store's password_file, and check that the user may connect.",
            "데이터베이스가 로그인을 거부했습니다. PGPASSWORD나 비밀번호 파일을 확인하세요.")
    if state == "3D000" or "does not exist" in text:
        return StoreUnavailable(
            f"Database '{spec.database}' does not exist at {where}: create it (`createdb -O {spec.user} {spec.database}`) "
            "and the vector extension in it (README, \"PostgreSQL\").",
            "데이터베이스가 없습니다. README의 PostgreSQL 설정 명령으로 만드세요.")
    reason = redact(str(error).rsplit("failed:", 1)[-1].strip().split("\n")[0].strip())[:120]  # "Connection refused"
    return StoreUnavailable(
        f"Cannot reach {where} ({reason or type(error).__name__}): start the server, or fix the host and port of the "
        f"store ({spec.url}).",
        "데이터베이스(PostgreSQL)에 연결할 수 없습니다. 서버가 켜져 있는지, 주소와 포트가 맞는지 확인하세요.")


def read_identity(conn, spec: StoreSpec) -> Identity | None:
    """The identity the store was built with; None if it has no index yet."""
    exists = conn.execute("SELECT to_regclass('rag_identity') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("SELECT identity FROM rag_identity").fetchone()
    try:
        return Identity(**row[0])
    except TypeError:
        raise StoreError(f"The index in {spec.url} records an identity this version cannot read: rebuild it with "
                         "`rag index --rebuild PATH`.", "색인이 손상되었습니다") from None


def check_identity(conn, spec: StoreSpec, expected: Identity) -> Identity:
    """The store's identity if it is `expected`'s; refuses, as the folder does, otherwise."""
    wanted, built = stored_identity(expected), read_identity(conn, spec)
    if built is None:
        raise IndexMissing(f"No index in {spec.url}: run `rag index PATH` with this store.", "색인이 없습니다")
    return same_identity(spec, wanted, built)


def same_identity(spec: StoreSpec, wanted: Identity, built: Identity) -> Identity:
    if built != wanted:
        raise IndexMismatch(
            f"The index in {spec.url} was built with {'; '.join(wanted.differences(built))}. Rebuild it with "
            "`rag index --rebuild PATH`, or use the profile/settings it was built with.")
    return built


def create(conn, spec: StoreSpec, expected: Identity, rebuild: bool) -> None:
    """Make the tables for `expected` (dropping the old ones on `rebuild`; the vector cache stays)
    in one transaction under the writers' lock; an index of another identity is refused."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITERS,))
        _extension(conn, spec)
        if spec.schema != "public":
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")  # a checked name (address.py)
        conn.execute(CACHE)
        built = read_identity(conn, spec)
        if built is not None and not rebuild:
            check_identity(conn, spec, expected)
            return
        # the version goes on counting across a rebuild: an open store must not take the new index for its old one
        version = conn.execute("SELECT version FROM rag_stats").fetchone()[0] if built is not None else 0
        conn.execute(DROP)
        conn.execute(TABLES.replace("{dim}", str(int(expected.dim))))
        conn.execute("UPDATE rag_stats SET version = %s", (version + 1,))
        conn.execute("INSERT INTO rag_identity (identity) VALUES (%s)", (json.dumps(asdict(stored_identity(expected))),))
        log.info("created the index tables in %s", spec.url)


def _extension(conn, spec: StoreSpec) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    import psycopg

    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION vector")
    except psycopg.Error:
        raise StoreUnavailable(
            f"The vector extension (pgvector) is not installed in database '{spec.database}' and user '{spec.user}' "
            f"may not install it: run `CREATE EXTENSION vector;` in it as a superuser.",
            "데이터베이스에 vector 확장(pgvector)이 없습니다. 관리자가 CREATE EXTENSION vector; 를 실행하세요.") from None


def ensure_hnsw(conn) -> None:
    """Build the HNSW index over the vectors if it is not there (once; new vectors join it)."""
    conn.execute(HNSW)


def literal(vector: np.ndarray) -> str:
    """A vector as pgvector reads it ('[0.5,0.25]'): every float32 digit, nothing lost.

    >>> literal(np.array([0.5, 0.25], np.float32))
    '[0.5,0.25]'
    """
    return "[" + ",".join(map(repr, np.asarray(vector, np.float32).ravel().tolist())) + "]"
