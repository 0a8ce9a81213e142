"""What an update does, the same for every store: which articles stay, which are new, and the new
ones cut into chunks with their BM25 words and embedding keys.

Both stores plan alike (the same article ids, the same incremental plan) and prepare alike (the
same chunks and BM25 words), so the folder and PostgreSQL give the same answers on the same
articles; they differ only in how they keep the result.
"""
from __future__ import annotations

import hashlib
import time
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from .. import korean
from ..config import PROJECT_ROOT, Settings
from ..ingest import IngestReport
from ..split import chunk_article
from ..types import Article, Chunk
from .base import IndexResult, Progress


@dataclass(frozen=True)
class Entry:
    """An article as the index records it: where it came from and its chunk ids."""

    source: str
    line: int | None
    chunks: tuple[int, ...]


@dataclass(frozen=True)
class New:
    """Articles to add as one segment: their chunks, BM25 words and embedding keys, row for row."""

    articles: list[Article]
    chunks: list[Chunk]
    tokens: list[list[str]]
    keys: list[str]


def chunk_key(title: str, text: str) -> str:
    """What a chunk's vector depends on: its text and its article's title (in the document prompt)."""
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()[:20]


def plan(catalog, report: IngestReport, paths: list[Path]) -> tuple[set[str], list[Article], IndexResult]:
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


def prepare(articles: list[Article], first_id: int, settings: Settings, progress: Progress | None = None,
            laps: dict[str, float] | None = None) -> New:
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
    return New(articles, chunks, toks, [chunk_key(title_of[c.article_id], c.text) for c in chunks])
