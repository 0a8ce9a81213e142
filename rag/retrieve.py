"""Hybrid retrieval: dense and BM25 candidates from the store (a `stores.base.Store`: the
folder or PostgreSQL), fused by weighted z-scores, with near-duplicate articles collapsed into
one hit; optionally within a Scope (days, outlets), and newer articles first when relevance ties.

News repeats itself: the same topic comes back on many days with new figures, so a plain
question ("엔비디아 주가는?") should get the latest of equally relevant reports. The bonus
for being new is small (at most `TIE` fused z-score units, halving every `HALF_LIFE` days
back from the reference day) so it only reorders near ties; "최근/요즘" asks for the new
outright, and gets `RECENT`.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from functools import lru_cache

from . import dates
from .config import Settings
from .embed import Embedder
from .fuse import Fused, fuse
from .stores.base import Store
from .period import Period, speaks_of
from .types import Article, Chunk, Hit, Scope

TIE, RECENT, HALF_LIFE = 0.05, 0.5, 30
OUTSIDE = 3.0  # fused z-score units an article printed after a period loses when it does not speak of it: behind the rest


def retrieve(index: Store, embedder: Embedder, question: str, words: list[str], settings: Settings, k: int | None = None, scope: Scope | None = None) -> list[Hit]:
    """The k (default: top_k) best chunks for a question whose content words are `words`,
    each carrying its dense and BM25 rank."""
    dense, sparse = search_both(index, embedder, question, words, settings.candidates, scope)
    return fused_hits(index, dense, sparse, settings.dense_weight, k or settings.top_k, scope)


def search_both(index: Store, embedder: Embedder, question: str, words: list[str], n: int, scope: Scope | None = None) -> tuple[dict[int, float], dict[int, float]]:
    """{chunk id: score} of the n best chunks (in the scope's days and outlets, if it narrows)
    by dense similarity and by BM25; the store applies the scope (in memory, or as SQL)."""
    where = scope if scope and scope.narrows else None
    return index.nearest(embedder.embed_query(question), n, where), index.keyword(words, n, where)


def fused_hits(index: Store, dense: dict[int, float], sparse: dict[int, float], dense_weight: float, k: int, scope: Scope | None = None) -> list[Hit]:
    """The k best chunks; a chunk whose article is a near-duplicate of a better hit's article is
    not a hit of its own but one of that hit's copies, so k hits are never k copies of one story."""
    hits: list[Hit] = []
    fused = fuse(dense, sparse, dense_weight)
    found = index.passages([f.id for f in fused])  # one lookup for every candidate
    if scope and scope.reference:
        fused = newer_first(fused, index, scope.reference, RECENT if scope.recent else TIE, found)
    if scope and scope.about:
        fused = of_the_period(fused, found, scope.about)
    for f in fused:
        if f.id not in found:  # removed since it was found (a store shared with writers)
            continue
        chunk, article = found[f.id]
        same = next((i for i, h in enumerate(hits) if h.article.id != article.id and same_story(h.article.text, article.text)), None)
        if same is not None:
            if article not in hits[same].copies:
                hits[same] = replace(hits[same], copies=hits[same].copies + (article,))
            continue
        if len(hits) == k:
            break
        hits.append(Hit(chunk, article, f.score, f.dense_rank, f.sparse_rank, dense.get(f.id)))
    return hits


def of_the_period(fused: list[Fused], found: dict[int, tuple[Chunk, Article]], period: Period) -> list[Fused]:
    """The fused list with the articles about the period first: those printed in it, and those
    printed after it (in its window) that speak of it in their own dates ("지난주", "지난 27일",
    "설 연휴 기간"); the rest, printed after the period about something later, drop `OUTSIDE`."""
    spoken: dict[str, bool] = {}

    def about(f: Fused) -> bool:
        if f.id not in found:
            return False
        article = found[f.id][1]
        day = dates.day(article.date)
        if period.holds(day) or period.ahead:
            return True
        if article.id not in spoken:
            spoken[article.id] = speaks_of(f"{article.title} {article.text}", day, period)
        return spoken[article.id]

    return sorted((f if about(f) else replace(f, score=f.score - OUTSIDE) for f in fused), key=lambda f: (-f.score, f.id))


def newer_first(fused: list[Fused], index: Store, reference: date, weight: float,
                found: dict[int, tuple[Chunk, Article]] | None = None) -> list[Fused]:
    """The fused list re-ordered with a bonus for newness: `weight` for the reference day,
    half of it `HALF_LIFE` days before, nothing for an undated article (or one removed since)."""
    found = index.passages([f.id for f in fused]) if found is None else found

    def bonus(f: Fused) -> float:
        day = dates.day(found[f.id][1].date) if f.id in found else None
        return 0.0 if day is None else weight * 0.5 ** (max(0, (reference - day).days) / HALF_LIFE)

    return sorted((replace(f, score=f.score + bonus(f)) for f in fused), key=lambda f: (-f.score, f.id))


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
