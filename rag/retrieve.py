"""Hybrid retrieval: dense (FAISS) and BM25 candidates, fused by weighted z-scores, with
near-duplicate articles collapsed into one hit."""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from .config import Settings
from .embed import Embedder
from .fuse import fuse
from .reader import Index
from .types import Hit


def retrieve(index: Index, embedder: Embedder, question: str, words: list[str], settings: Settings, k: int | None = None) -> list[Hit]:
    """The k (default: top_k) best chunks for a question whose content words are `words`,
    each carrying its dense and BM25 rank."""
    dense, sparse = search_both(index, embedder, question, words, settings.candidates)
    return fused_hits(index, dense, sparse, settings.dense_weight, k or settings.top_k)


def search_both(index: Index, embedder: Embedder, question: str, words: list[str], n: int) -> tuple[dict[int, float], dict[int, float]]:
    """{chunk id: score} of the n best chunks by dense similarity and by BM25."""
    return index.dense.search(embedder.embed_query(question), n), index.sparse.search(words, n)


def fused_hits(index: Index, dense: dict[int, float], sparse: dict[int, float], dense_weight: float, k: int) -> list[Hit]:
    """The k best chunks; a chunk whose article is a near-duplicate of a better hit's article is
    not a hit of its own but one of that hit's copies, so k hits are never k copies of one story."""
    hits: list[Hit] = []
    for f in fuse(dense, sparse, dense_weight):
        chunk = index.chunk(f.id)
        article = index.articles[chunk.article_id]
        same = next((i for i, h in enumerate(hits) if h.article.id != article.id and same_story(h.article.text, article.text)), None)
        if same is not None:
            if article not in hits[same].copies:
                hits[same] = replace(hits[same], copies=hits[same].copies + (article,))
            continue
        if len(hits) == k:
            break
        hits.append(Hit(chunk, article, f.score, f.dense_rank, f.sparse_rank, dense.get(f.id)))
    return hits


def same_story(a: str, b: str, threshold: float = 0.5) -> bool:
    """Whether two articles are one story sent twice (a few words changed, a new url): half or
    more of their 8-character pieces (spaces ignored) are shared. On two months of news the
    pairs above 0.5 are re-sends and re-edits of one report; other articles on one topic share
    far less (different outlets, or the same outlet's follow-ups, reword it).

    >>> story = "삼성전자가 3분기 영업이익 9조1000억원을 기록했다고 31일 밝혔다. 반도체 부문이 실적을 이끌었다."
    >>> same_story(story, story.replace("31일", "30일"))
    True
    >>> same_story(story, "엔비디아 주가가 17% 떨어졌다. 딥시크의 저가 모델이 충격을 줬다.")
    False
    """
    x, y = _pieces(a), _pieces(b)
    return bool(x and y) and len(x & y) / len(x | y) >= threshold


@lru_cache(maxsize=512)
def _pieces(text: str) -> frozenset[str]:
    flat = re.sub(r"\s+", "", text)
    return frozenset(flat[i : i + 8] for i in range(len(flat) - 7))
