"""Where an index lives: the interface (`base.Store`) and its homes, the folder (`folder/`) and
PostgreSQL (`postgres/`). The rest of the product reaches a store only through these functions
and the `Store` they open: which home it is is decided here, from `spec` (None: the folder).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .address import StoreSpec
from .base import CatchUp, IndexResult, Progress, Store
from .identity import Identity

if TYPE_CHECKING:
    from ..config import Settings
    from ..embed import Embedder
    from ..ingest import IngestReport


def open_store(spec: StoreSpec | None, index_dir: Path, expected: Identity) -> Store:
    """The store, refusing one built with another identity (or missing: IndexMissing)."""
    if spec is None:
        from .folder import open_folder

        return open_folder(index_dir, expected)
    from .postgres import PostgresStore

    return PostgresStore.open(spec, expected)


def update(spec: StoreSpec | None, index_dir: Path, expected: Identity, report: IngestReport, paths: list[Path],
           settings: Settings, rebuild: bool = False, progress: Progress | None = None) -> IndexResult:
    """Bring the store up to date with articles read from `paths`, made if it is not there (or
    anew, with `rebuild`): searchable by keyword on return, nothing opened (`embed_backlog`
    follows)."""
    if spec is None:
        from .folder import writer

        return writer.write_report(report, paths, index_dir, expected, settings, rebuild, progress)
    from .postgres import writer

    return writer.update(spec, expected, report, paths, settings, rebuild, progress)


def embed_backlog(spec: StoreSpec | None, index_dir: Path, expected: Identity, embedder: Embedder,
                  progress: Progress | None = None) -> CatchUp:
    """Embed the store's chunks that have no vector yet (on PostgreSQL, as one worker of many)."""
    if spec is None:
        from .folder import catch_up

        return catch_up(index_dir, embedder, expected, progress)
    from .postgres import queue

    return queue.work(spec, expected, embedder, progress)


def exists(spec: StoreSpec | None, index_dir: Path) -> bool:
    """Whether there is an index to open (a PostgreSQL store is made by its first update)."""
    if spec is None:
        from .folder import exists as folder_exists

        return folder_exists(index_dir)
    from .postgres import schema

    with schema.connect(spec, autocommit=True) as conn:
        return schema.read_identity(conn, spec) is not None


def reach(spec: StoreSpec | None) -> None:
    """Connect to a PostgreSQL store once, before any model loads: a server that is down or
    refuses the login is told in one line at once, not after half a minute of loading."""
    if spec is not None:
        from .postgres.schema import connect

        connect(spec).close()


__all__ = ["CatchUp", "Identity", "IndexResult", "Store", "StoreSpec", "embed_backlog", "exists", "open_store", "reach", "update"]
