"""Indexing: read files, chunk and embed what is new, and write the index (see store.py).

This is the only module that writes an index: through `index_paths`/`index_report` for
articles, and `copy_index` for a derived copy (the evaluation's index without some
articles, the benchmark's padded one). Each write holds the index's lock.

Re-indexing is incremental and scoped to what was read. For each file read in this run,
its articles in the index are replaced by what the file holds now: unchanged articles keep
their chunks and vectors (nothing is embedded twice), changed or new ones are embedded,
and ones gone from the file are removed. Articles of files under a given folder that no
longer exist are removed too. Everything else in the index is left as it was.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import korean, store
from .config import PROJECT_ROOT, Settings
from .embed import Embedder
from .ingest import IngestReport, read_paths
from .split import chunk_article
from .types import Article, Chunk

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Embedded:
    """Chunks ready to be written: their BM25 words and their vectors, row for row."""

    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray


@dataclass
class IndexResult:
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    index: store.Index | None = None


def index_paths(
    paths: Iterable[Path | str],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexResult:
    """Bring the index in `index_dir` up to date with the given files and folders."""
    paths = [Path(p) for p in paths]
    return index_report(read_paths(paths), paths, index_dir, embedder, settings, rebuild, progress)


def index_report(
    report: IngestReport,
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexResult:
    """Index articles already read (`paths` are what was read, for finding removed files)."""
    expected = identity(embedder, settings)
    with store.lock(index_dir):
        fresh = rebuild or not store.exists(index_dir)
        base = store.empty_index(index_dir, expected) if fresh else store.open_index(index_dir, expected)
        articles, new, result = _plan(base, report, paths)
        if not fresh and not new and articles == base.articles:
            result.index, result.chunks = base, len(base.chunks)
            return result  # nothing changed: leave the index as it is
        embedded = _embed_new(new, base.manifest.next_chunk_id, embedder, settings, progress)
        result.index = _write(index_dir, base, articles, embedded)
        result.chunks = len(result.index.chunks)
        return result


def copy_index(base: store.Index, folder: Path, drop: set[str] = frozenset(), extra: Embedded | None = None) -> store.Index:
    """A copy of `base` in `folder` without the articles in `drop`, plus already embedded `extra`
    chunks of its articles (nothing is embedded)."""
    articles = {aid: a for aid, a in base.articles.items() if aid not in drop}
    extra = extra or Embedded([], [], np.zeros((0, base.manifest.identity.dim), np.float32))
    with store.lock(folder):
        return _write(folder, base, articles, extra)


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


def _write(index_dir: Path, base: store.Index, articles: dict[str, Article], new: Embedded) -> store.Index:
    return store.write_index(index_dir, base, articles, new.chunks, new.tokens, new.vectors)


def _plan(base: store.Index, report: IngestReport, paths: list[Path]) -> tuple[dict[str, Article], list[Article], IndexResult]:
    """The index's articles after this run, the ones among them that need embedding, and counts."""
    read = set(report.files)
    articles = {
        aid: a for aid, a in base.articles.items() if a.source not in read and not _vanished_under(a.source, paths)
    }
    result = IndexResult(duplicates=report.duplicates, problems=report.problems)
    new: list[Article] = []
    for article in report.articles:
        if article.id in articles:  # the same text is already indexed from a file not read now
            result.duplicates += 1
            continue
        articles[article.id] = article
        if article.id in base.articles:
            result.unchanged += 1
        else:
            new.append(article)
    result.added = len(new)
    result.removed = sum(1 for aid in base.articles if aid not in articles)
    return articles, new, result


def _embed_new(
    articles: list[Article], first_id: int, embedder: Embedder, settings: Settings, progress: Progress | None
) -> Embedded:
    chunks: list[Chunk] = []
    for article in articles:
        chunks += chunk_article(article, settings.chunk_size, settings.chunk_overlap, first_id + len(chunks))
    texts = [c.text for c in chunks]
    title_of = {a.id: a.title for a in articles}
    titles = [title_of[c.article_id] for c in chunks]
    # the headline names what every chunk of the article is about, for BM25 as for embeddings
    toks = korean.tokens_many([f"{title}\n{text}" for title, text in zip(titles, texts)]) if texts else []
    report = (lambda done, total: progress("embed", done, total)) if progress else None
    vectors = embedder.embed_documents(texts, progress=report, titles=titles) if texts else np.zeros((0, embedder.dim), np.float32)
    return Embedded(chunks, toks, vectors)


def _vanished_under(source: str, paths: list[Path]) -> bool:
    """True when the article's file no longer exists and lies under one of the given paths."""
    path = Path(source) if Path(source).is_absolute() else PROJECT_ROOT / source
    if path.exists():
        return False
    return any(p.resolve() == path or p.resolve() in path.parents for p in paths)
