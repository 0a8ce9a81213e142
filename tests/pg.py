"""A real PostgreSQL (with pgvector) for the `postgres` tests: rag/stores/postgres/local.py's, in a
temporary folder, stopped and deleted at the end of the session, with fixed passwords that tests
check never show in output.

    server = start()                      # initdb, pg_ctl start, role `rag`, template with pgvector
    spec = server.database("t1", fresh=True)
    server.stop(delete=True)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from rag.stores.postgres.local import LocalServer, binaries  # noqa: F401  (conftest checks the wheel with it)

PASSWORD = "rag-test-pw-7f3a"  # the role `rag`'s password: tests check it never shows in output
ADMIN_PASSWORD = "rag-admin-pw-91c2"


def start() -> LocalServer:
    # not durable: these tests kill clients, never the server
    return LocalServer.start(Path(tempfile.mkdtemp(prefix="rag-pg-")), admin_password=ADMIN_PASSWORD, password=PASSWORD,
                             durable=False)
