"""Writing the folder store: what is new, chunked and tokenized into a segment (searchable by
BM25 within seconds); vectors follow in the background (backlog.py). See generations.py for
the files.

This is the only module that writes a folder index's articles: `write_report` for articles
read from files, `write_copy` for a derived copy (the evaluation's index without some
articles), `write_prepared` for articles already cut (the benchmark's archives). Each write
holds the index's lock, for seconds. It never opens the index it wrote: `FolderStore` (the
package) does, so reading never imports writing back.

Re-indexing is incremental and scoped to what was read. For each file read in this run,
its articles in the index are replaced by what the file holds now: unchanged articles keep
their chunks and vectors (nothing is embedded twice), changed or new ones are added, and
ones gone from the file are removed. Articles of files under a given folder that no
longer exist are removed too. Everything else in the index is left as it was.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ...config import Settings
from ...ingest import IngestReport
from ..base import IndexResult, Progress
from ..identity import Identity
from ..plan import New, plan, prepare
from . import generations as store
from . import reader, segment, vectors

log = logging.getLogger(__name__)


def write_report(report: IngestReport, paths: list[Path], index_dir: Path, expected: Identity, settings: Settings,
                 rebuild: bool = False, progress: Progress | None = None) -> IndexResult:
    """A segment for what is new, under the lock: searchable by keyword when this returns."""
    with store.lock(index_dir):
        fresh = rebuild or not store.exists(index_dir)
        catalog = store.empty_catalog(index_dir, expected) if fresh else store.read_catalog(index_dir, expected)
        keep, new, result = plan(catalog, report, paths)
        if fresh or new or result.removed:
            catalog = store.write(index_dir, catalog, keep, prepare(new, catalog.generation.next_chunk_id, settings, progress))
    result.chunks = sum(len(e.chunks) for e in catalog.entries.values())
    return result


def write_copy(base: reader.Index, folder: Path, drop: set[str] = frozenset()) -> None:
    """A copy of `base` in `folder` without the articles in `drop` (nothing is embedded: the
    copy shares the vectors, hard-linked)."""
    rows = [r for name in base.generation.segments for r in segment.rows(base.folder / name, base.generation.removed)]
    rows = [r for r in rows if r[0].article_id not in drop]
    articles = [a for aid, a in base.articles.items() if aid not in drop]
    new = New(articles, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    with store.lock(folder):
        catalog = store.empty_catalog(folder, base.identity)
        catalog.generation.next_chunk_id = base.generation.next_chunk_id
        store.write(folder, catalog, set(), new)
    source = vectors.folder(base.folder, base.identity.model_id, base.identity.dim)
    target = vectors.folder(folder, base.identity.model_id, base.identity.dim)
    target.mkdir(parents=True, exist_ok=True)
    for shard in vectors.shards(source):
        if not (target / shard.name).exists():
            os.link(shard, target / shard.name)


def write_prepared(index_dir: Path, ident: Identity, batches: Iterable[New]) -> None:
    """A new index of already prepared articles, one segment per batch (the benchmark's archives)."""
    with store.lock(index_dir):
        catalog = store.empty_catalog(index_dir, ident)
        for new in batches:
            catalog = store.write(index_dir, catalog, set(catalog.entries), new)


