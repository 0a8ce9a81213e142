"""Indexing: read files, chunk and tokenize what is new into a segment (searchable by BM25
within seconds), then embed it in the background (`catch_up`). See store.py for the files.

This is the only module that writes a folder index (stores/pg_write.py writes PostgreSQL's): through `index_paths`/`index_report` for
articles, and `copy_index` for a derived copy (the evaluation's index without some
articles). Each write holds the index's lock, for seconds; embedding holds only the
embedding lock, so uploads and other `rag index` runs go on while it runs, and its vectors
are written at least every `vectors.FLUSH_SECONDS`: a kill loses no more, a new run resumes.

Re-indexing is incremental and scoped to what was read. For each file read in this run,
its articles in the index are replaced by what the file holds now: unchanged articles keep
their chunks and vectors (nothing is embedded twice), changed or new ones are added, and
ones gone from the file are removed. Articles of files under a given folder that no
longer exist are removed too. Everything else in the index is left as it was.
"""
from __future__ import annotations

import logging
import os
import time
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

from . import korean, reader, segment, store, vectors
from .background import Progress, catch_up
from .config import PROJECT_ROOT, Settings
from .embed import Embedder
from .ingest import IngestReport, read_paths
from .split import chunk_article
from .stores.base import IndexResult
from .types import Article, Chunk

log = logging.getLogger(__name__)


def index_paths(
    paths: Iterable[Path | str],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    embed: bool = True,
    base: reader.Index | None = None,
    load: bool = True,
) -> IndexResult:
    """Bring the index in `index_dir` up to date with the given files and folders; with `embed`,
    also embed every chunk still without a vector before returning; with `load`, return it opened."""
    paths = [Path(p) for p in paths]
    return index_report(read_paths(paths), paths, index_dir, embedder, settings, rebuild, progress, embed, base, load)


def index_report(
    report: IngestReport,
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    embed: bool = True,
    base: reader.Index | None = None,
    load: bool = True,
) -> IndexResult:
    """Index articles already read (`paths` are what was read, for finding removed files).
    `base`, the caller's open index, saves reading again what it already holds."""
    expected = identity(embedder, settings)
    result = write_report(report, paths, index_dir, expected, settings, rebuild, progress)
    if embed:
        catch_up(index_dir, embedder, expected, progress)
    if load:
        result.index = reader.open_index(index_dir, expected, previous=base)
    return result


def write_report(report: IngestReport, paths: list[Path], index_dir: Path, expected: store.Identity, settings: Settings,
                 rebuild: bool = False, progress: Progress | None = None) -> IndexResult:
    """The keyword half of `index_report`: a segment for what is new, under the lock."""
    with store.lock(index_dir):
        fresh = rebuild or not store.exists(index_dir)
        catalog = store.empty_catalog(index_dir, expected) if fresh else store.read_catalog(index_dir, expected)
        keep, new, result = _plan(catalog, report, paths)
        if fresh or new or result.removed:
            catalog = store.write(index_dir, catalog, keep, prepare(new, catalog.generation.next_chunk_id, settings, progress))
    result.chunks = sum(len(e.chunks) for e in catalog.entries.values())
    return result


def prepare(articles: list[Article], first_id: int, settings: Settings, progress: Progress | None = None,
            laps: dict[str, float] | None = None) -> segment.New:
    """Chunks, BM25 words and embedding keys of new articles (no model: hundreds of chunks a
    second); `laps` gets the seconds spent in Kiwi and in chunking."""
    laps = {} if laps is None else laps
    chunks: list[Chunk] = []
    toks: list[list[str]] = []
    for i in range(0, len(articles), 256):  # a batch at a time: Kiwi's tokens of all would not fit
        batch = articles[i : i + 256]
        t = time.perf_counter()
        analysed = list(korean.analyse_many([a.text for a in batch]))
        # the headline names what every chunk of the article is about, for BM25 as for embeddings
        titles = korean.tokens_many([a.title for a in batch])
        laps["kiwi"] = laps.get("kiwi", 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        for article, sentences, title in zip(batch, analysed, titles):
            cut = chunk_article(article, settings.chunk_size, settings.chunk_overlap, first_id + len(chunks), sentences)
            words = korean.positioned(sentences)
            starts = [at for at, _ in words]
            chunks += cut
            toks += [title + [w for _, w in words[bisect_left(starts, c.start) : bisect_left(starts, c.end)]] for c in cut]
        laps["chunk"] = laps.get("chunk", 0.0) + time.perf_counter() - t
        if progress:
            progress("read", min(i + 256, len(articles)), len(articles))
    title_of = {a.id: a.title for a in articles}
    return segment.New(articles, chunks, toks, [vectors.chunk_key(title_of[c.article_id], c.text) for c in chunks])


def copy_index(base: reader.Index, folder: Path, drop: set[str] = frozenset()) -> reader.Index:
    """A copy of `base` in `folder` without the articles in `drop` (nothing is embedded: the
    copy shares the vectors, hard-linked)."""
    rows = [r for name in base.generation.segments for r in segment.rows(base.folder / name, base.generation.removed)]
    rows = [r for r in rows if r[0].article_id not in drop]
    articles = [a for aid, a in base.articles.items() if aid not in drop]
    new = segment.New(articles, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
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
    return reader.open_index(folder, base.identity)


def write_prepared(index_dir: Path, ident: store.Identity, batches: Iterable[segment.New]) -> None:
    """A new index of already prepared articles, one segment per batch (the benchmark's archives)."""
    with store.lock(index_dir):
        catalog = store.empty_catalog(index_dir, ident)
        for new in batches:
            catalog = store.write(index_dir, catalog, set(catalog.entries), new)


def identity(embedder: Embedder, settings: Settings) -> store.Identity:
    """What an index built by this embedder with these settings records, and is checked against."""
    return store.Identity(
        model_id=embedder.model_id,
        dim=embedder.dim,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        sentences="kiwi",
        words=korean.identity(),
        bm25_k1=settings.bm25_k1,
        bm25_b=settings.bm25_b,
        schema_version=store.SCHEMA_VERSION,
    )


def _plan(catalog, report: IngestReport, paths: list[Path]) -> tuple[set[str], list[Article], IndexResult]:
    """The ids of the index's articles that stay, the articles to add, and counts. `catalog`
    is anything with `entries` ({article id: Entry} of the live articles): the folder's
    `store.Catalog`, or the rows of a PostgreSQL store, so both plan alike."""
    read = set(report.files)
    keep = {aid for aid, e in catalog.entries.items() if e.source not in read and not _vanished_under(e.source, paths)}
    result = IndexResult(duplicates=report.duplicates, problems=report.problems)
    new: list[Article] = []
    for article in report.articles:
        if article.id in keep:  # the same text is already indexed from a file not read now
            result.duplicates += 1
            continue
        entry = catalog.entries.get(article.id)
        if entry is not None and (entry.source, entry.line) == (article.source, article.line):
            keep.add(article.id)
            result.unchanged += 1
        else:  # new, or moved within its file (its line changed): added again, its vectors reused
            new.append(article)
            result.unchanged += entry is not None
    result.added = sum(1 for a in new if a.id not in catalog.entries)
    result.removed = sum(1 for aid in catalog.entries if aid not in keep and aid not in {a.id for a in new})
    return keep, new, result


def _vanished_under(source: str, paths: list[Path]) -> bool:
    """True when the article's file no longer exists and lies under one of the given paths."""
    path = Path(source) if Path(source).is_absolute() else PROJECT_ROOT / source
    if path.exists():
        return False
    return any(p.resolve() == path or p.resolve() in path.parents for p in paths)
