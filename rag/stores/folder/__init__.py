"""The folder store: an index on one disk, the default (no server needed).

Its modules read or write, never both: `reader` reads the live index into memory, `writer`
writes segments, `backlog` embeds what has no vector, over `generations` (the live segments,
switched atomically, under one lock), `segment` (one immutable segment with its checksums) and
`vectors` (the append-only embedding cache). `FolderStore` is the one object that does both:
the reader's index, whose `update` and `embed_pending` go through the writer and the backlog
and open the result again. Nothing here imports back what imports it.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from ...config import Settings
from ...embed import Embedder
from ...ingest import IngestReport, read_paths
from ..base import CatchUp, IndexResult, Progress
from ..identity import Identity, identity
from . import reader, writer
from .backlog import catch_up
from .generations import exists


class FolderStore(reader.Index):
    """The folder's `stores.base.Store`: reading as `reader.Index`, writing through `writer`."""

    def update(self, report: IngestReport, paths: list[Path], settings: Settings, rebuild: bool = False,
               progress: Progress | None = None) -> IndexResult:
        result = writer.write_report(report, paths, self.folder, self.identity, settings, rebuild, progress)
        result.index = reader.open_index(self.folder, self.identity, previous=self)
        return result

    def embed_pending(self, embedder: Embedder, progress: Progress | None = None, stop: threading.Event | None = None) -> CatchUp:
        return catch_up(self.folder, embedder, self.identity, progress, stop)


def open_folder(index_dir: Path, expected: Identity) -> FolderStore:
    """The folder index, checked against what it must have been built with."""
    return reader.open_index(index_dir, expected, kind=FolderStore)


def index_paths(paths: Iterable[Path | str], index_dir: Path, embedder: Embedder, settings: Settings, rebuild: bool = False,
                progress: Progress | None = None, embed: bool = True, base: FolderStore | None = None,
                load: bool = True) -> IndexResult:
    """Bring the index in `index_dir` up to date with the given files and folders (made if it is
    not there); with `embed`, also embed every chunk still without a vector before returning;
    with `load`, return it opened."""
    paths = [Path(p) for p in paths]
    return index_report(read_paths(paths), paths, index_dir, embedder, settings, rebuild, progress, embed, base, load)


def index_report(report: IngestReport, paths: list[Path], index_dir: Path, embedder: Embedder, settings: Settings,
                 rebuild: bool = False, progress: Progress | None = None, embed: bool = True, base: FolderStore | None = None,
                 load: bool = True) -> IndexResult:
    """Index articles already read (`paths` are what was read, for finding removed files).
    `base`, the caller's open index, saves reading again what it already holds."""
    expected = identity(embedder, settings)
    result = writer.write_report(report, paths, index_dir, expected, settings, rebuild, progress)
    if embed:
        catch_up(index_dir, embedder, expected, progress)
    if load:
        result.index = reader.open_index(index_dir, expected, previous=base, kind=FolderStore)
    return result


def copy_index(base: reader.Index, folder: Path, drop: set[str] = frozenset()) -> FolderStore:
    """A copy of `base` in `folder` without the articles in `drop`, sharing its vectors."""
    writer.write_copy(base, folder, drop)
    return open_folder(folder, base.identity)


__all__ = ["FolderStore", "catch_up", "copy_index", "exists", "index_paths", "index_report", "open_folder"]
