"""The things that flow between pipeline stages, as frozen dataclasses.

Article -> (split) -> Chunk -> (retrieve) -> Hit -> (prompt) -> Source -> (generate + cite)
-> Answer with Citations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from . import dates
from .period import Period

_WEB_URL = re.compile(r"https?://[^\s\"'<>`]+\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """One news article as read from disk.

    `line` is the 1-based line number for files that hold one article per line, else None.
    """

    id: str
    title: str
    text: str
    source: str
    line: int | None = None
    outlet: str | None = None
    author: str | None = None
    url: str | None = None
    date: str | None = None

    @property
    def link(self) -> str | None:
        """The url if it is a plain http(s) address; a "javascript:" or odd one is never a link.

        >>> Article("a", "t", "x", "s", url="javascript:alert(1)").link is None
        True
        """
        return self.url if self.url and _WEB_URL.match(self.url) else None


@dataclass(frozen=True)
class Scope:
    """Which articles a search looks at: Korean calendar days (inclusive; None = open) and
    outlets (none = all). With `reference` (the day relative words were resolved against),
    newer articles win near ties, and clearly when `recent` ("최근", "요즘"). With `about` (the
    period a question names, whose reports come after it: `since`/`until` then cover its window),
    an article printed outside the period must speak of it in its own dates."""

    since: date | None = None
    until: date | None = None
    outlets: tuple[str, ...] = ()
    recent: bool = False
    reference: date | None = None
    about: Period | None = None

    @property
    def narrows(self) -> bool:
        return bool(self.since or self.until or self.outlets)


@dataclass(frozen=True)
class Chunk:
    """A passage of an article; `article.text[start:end] == text`."""

    id: int
    article_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and its rank in each retriever (1-based, None = not found)."""

    chunk: Chunk
    article: Article
    score: float
    dense_rank: int | None = None
    sparse_rank: int | None = None
    similarity: float | None = None  # the question's cosine similarity to the chunk, if dense found it
    copies: tuple[Article, ...] = ()  # near-duplicates of this article (the story re-sent), collapsed into it


@dataclass(frozen=True)
class Source:
    """One numbered source in the prompt: an article and the sentences of it shown to the model."""

    n: int
    article: Article
    chunks: tuple[Chunk, ...]
    sentences: tuple[tuple[int, int], ...]  # spans in article.text, the best evidence first

    @property
    def text(self) -> str:
        return " ".join(self.article.text[s:e].strip() for s, e in self.sentences)


@dataclass(frozen=True)
class Evidence:
    """A sentence of a hit article (or its headline) that may answer the question; `score` is
    the probability that it does (evidence.py)."""

    article: Article
    start: int  # span in article.text (0, 0 for the headline)
    end: int
    headline: bool = False
    rank: int = 0  # of its article among the hits, 0 = the top hit's article
    similarity: float = 0.0  # of its hit's chunk to the question
    lead: bool = False  # the article's first sentence
    share: float = 0.0  # of the question's content words it holds, with its headline's
    score: float = 0.0
    features: tuple[float, ...] = ()  # what the score was made of (evidence.FEATURES)
    chunk: Chunk | None = None  # the hit chunk it was found in

    @property
    def text(self) -> str:
        return self.article.title if self.headline else self.article.text[self.start : self.end].strip()


@dataclass(frozen=True)
class Citation:
    """A numbered reference in an answer, resolved to the article sentence it rests on."""

    n: int
    article: Article
    quote: str
    chunk: Chunk | None  # None: a timeline event cites its headline, no passage
    quote_start: int  # offsets of `quote` within article.text (0, 0 for the headline)
    quote_end: int
    headline: bool = False  # the quote is the article's title


@dataclass(frozen=True)
class Event:
    """One happening of a story (timeline.py): its day, the headline that tells it, cited, and
    the articles that told it."""

    day: date | None  # None: its articles carry no date
    text: str
    citation: Citation
    articles: tuple[Article, ...]

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.outlet or "?" for a in self.articles))


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: the standalone question and the answer's text."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    asked: str | None = None  # what the person typed, when `question` is its standalone rewrite
    # why it was refused: "unrelated" (nothing found is about it, the model was not asked),
    # "not-asked" (no span of what was asked is in the evidence), "weak" (the best value is
    # unlikely to answer), "model" (the model chose none of the values)
    refusal: str | None = None
    period: Period | None = None  # the days the question named, as resolved
    notice: str | None = None  # said to the person about the search ("… 관련 기사가 없어 전체 기간에서 찾았습니다")
    evidence: tuple[Evidence, ...] = ()  # the best sentences found, best first (shown when it is refused)
    value: str | None = None  # what the answer states, as the cited sentence gives it ("300명")
    chosen_by: str | None = None  # "code" (its ranking was sure) or "model" (it chose among the values)
    timeline: tuple[Event, ...] = ()  # a story asked for: its events in date order, the text one line each

    @property
    def as_of(self) -> str | None:
        """The newest publication day among the cited articles: what the answer is as of."""
        days = [d for c in self.citations if (d := dates.day(c.article.date))]
        return str(max(days)) if days else None


def citation_dict(c: Citation) -> dict:
    return {
        "n": c.n,
        "article_id": c.article.id,
        "title": c.article.title,
        "source": c.article.source,
        "line": c.article.line,
        "outlet": c.article.outlet,
        "author": c.article.author,
        "date": c.article.date,
        "url": c.article.url,
        "quote": c.quote,
        "quote_start": c.quote_start,
        "quote_end": c.quote_end,
        "headline": c.headline,
    }


def hit_dict(rank: int, h: Hit) -> dict:
    return {
        "rank": rank,
        "article_id": h.article.id,
        "title": h.article.title,
        "source": h.article.source,
        "line": h.article.line,
        "outlet": h.article.outlet,
        "date": h.article.date,
        "chunk_id": h.chunk.id,
        "start": h.chunk.start,
        "end": h.chunk.end,
        "score": round(h.score, 4),
        "dense_rank": h.dense_rank,
        "sparse_rank": h.sparse_rank,
        "text": h.chunk.text,
        "copies": [{"article_id": a.id, "title": a.title, "source": a.source, "line": a.line, "url": a.url} for a in h.copies],
    }


def evidence_dict(e: Evidence) -> dict:
    return {"article_id": e.article.id, "title": e.article.title, "url": e.article.url, "source": e.article.source,
            "line": e.article.line, "text": e.text, "start": e.start, "end": e.end, "headline": e.headline,
            "score": round(e.score, 3)}


def answer_dict(a: Answer) -> dict:
    """The JSON shape of `rag ask --json`."""
    return {
        "question": a.question,
        "asked": a.asked or a.question,
        "answer": a.text,
        "refused": a.refused,
        "refusal": a.refusal,
        "period": period_dict(a.period),
        "notice": a.notice,
        "as_of": a.as_of,
        "value": a.value,
        "chosen_by": a.chosen_by,
        "timeline": [event_dict(e) for e in a.timeline],
        "citations": [citation_dict(c) for c in a.citations],
        "hits": [hit_dict(r, h) for r, h in enumerate(a.hits, 1)],
        "evidence": [evidence_dict(e) for e in a.evidence],
        "timings": a.timings,
    }


def event_dict(e: Event) -> dict:
    return {"day": str(e.day) if e.day else None, "text": e.text, "n": e.citation.n, "articles": len(e.articles), "outlets": list(e.outlets),
            "urls": [a.url for a in e.articles if a.url], "sources": [a.source for a in e.articles]}


def period_dict(p: Period | None) -> dict | None:
    if p is None:
        return None
    return {"since": str(p.start), "until": str(p.end), "label": p.label, "said": p.said, "recent": p.recent,
            "reference": str(p.reference) if p.reference else None}
