"""The PostgreSQL store: one archive shared by several writers, web servers and embedding workers.

Its modules read or write, never both: `reader` searches in SQL, `writer` updates articles in
one transaction, `queue` embeds the backlog as a queue of claims, over `schema` (the tables,
the identity row, connecting, one-line errors). `PostgresStore` is the one object that does
both: the reader, whose `update` and `embed_pending` go through the writer and the queue and
refresh the result. Nothing here imports back what imports it.
"""
from __future__ import annotations

import threading
from pathlib import Path

from ...config import Settings
from ...embed import Embedder
from ...ingest import IngestReport
from ..base import CatchUp, IndexResult, Progress
from . import queue, writer
from .reader import PostgresReader


class PostgresStore(PostgresReader):
    """PostgreSQL's `stores.base.Store`: reading as `PostgresReader`, writing through `writer` and `queue`."""

    def update(self, report: IngestReport, paths: list[Path], settings: Settings, rebuild: bool = False,
               progress: Progress | None = None) -> IndexResult:
        result = writer.update(self.spec, self.identity, report, paths, settings, rebuild, progress)
        result.index = self.refresh()
        return result

    def embed_pending(self, embedder: Embedder, progress: Progress | None = None, stop: threading.Event | None = None) -> CatchUp:
        return queue.work(self.spec, self.identity, embedder, progress, stop)


__all__ = ["PostgresStore"]
