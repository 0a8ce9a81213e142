"""How an answer is referred to outside the chat: what it is as of, and each article's
reference line (title, outlet, reporter, date, and a URL or file:line)."""
from __future__ import annotations

from . import dates
from .types import Answer, Article


def when(answer: Answer) -> str | None:
    """What the answer is as of, said under it: the question's period, a note that the period
    held nothing on it, or the newest cited article's day.

    >>> when(Answer("q", "a", False, notice="2024-10-21 ~ 2024-10-27 기사 중에는 관련 기사가 없어 전체 기간에서 찾았습니다."))
    '2024-10-21 ~ 2024-10-27 기사 중에는 관련 기사가 없어 전체 기간에서 찾았습니다.'
    """
    if answer.notice:
        return answer.notice
    if answer.period and not answer.refused:
        return f"{answer.period.label} 기사 기준"
    return f"{answer.as_of} 기사 기준" if answer.as_of else None


def reference(article: Article) -> str:
    """Title — outlet, reporter, date. Where: URL, else file:line."""
    who = ", ".join(x for x in (article.outlet, article.author and f"{article.author} 기자", dates.shown(article.date)) if x)
    where = article.link or location(article)
    return article.title.rstrip(". ") + (f" — {who}" if who else "") + f". {where}"


def location(article: Article) -> str:
    return f"{article.source}:{article.line}" if article.line else article.source
