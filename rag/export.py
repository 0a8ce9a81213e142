"""How an answer is referred to outside the chat: what it is as of, and each article's
reference line (title, outlet, reporter, date, and a URL or file:line).

`reporter` is the one place an article's author is put into words; the page's cards and
every reference line call it, so "기자" is said once whatever form the feed gave.
"""
from __future__ import annotations

import re

from . import dates
from .types import Answer, Article

# A bare Korean name, or several ("홍길동·김철수"), after an optional dateline ("실리콘밸리=").
# Only such a name is a reporter still missing "기자": anything else (already "석남준 기자",
# "워싱턴=김원장 특파원", a Latin-script byline, "온라인뉴스팀") is shown as the feed wrote it.
_BARE_NAMES = re.compile(r"(?:[가-힣]{1,10}=)?[가-힣]{2,4}(?:\s*[·ㆍ・,/]\s*[가-힣]{2,4})*")
# Agencies and desks sign as themselves and take no 기자. Only those that look like a name of
# two to four syllables need naming here: outlets and desks by their ending ("연합뉴스",
# "한국경제", "편집부", "뉴스팀"; given names almost never end so), and a few by name. 국 is not
# an ending (김민국), so 편집국 and 보도국 are listed.
_NOT_NAME_ENDINGS = ("일보", "신문", "뉴스", "경제", "방송", "통신", "부", "팀")
_NOT_NAMES = {"뉴시스", "로이터", "한겨레", "블룸버그", "편집국", "보도국"}
_EMAIL = re.compile(r"[(<\[]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[)>\]]?")


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
    who = ", ".join(x for x in (article.outlet, reporter(article.author), dates.shown(article.date)) if x)
    where = article.link or location(article)
    return article.title.rstrip(". ") + (f" — {who}" if who else "") + f". {where}"


def reporter(author: str | None) -> str | None:
    """The author as a reference line shows it: a bare Korean name gets "기자" once; a byline
    that already names a role, an agency or desk, and a Latin-script byline are kept as they
    are ("By " and an e-mail address dropped).

    >>> [reporter(a) for a in ("석남준", "석남준 기자", "실리콘밸리=오로라", "연합뉴스", "편집부", "AFP")]
    ['석남준 기자', '석남준 기자', '실리콘밸리=오로라 기자', '연합뉴스', '편집부', 'AFP']
    >>> [reporter(a) for a in ("홍길동·김철수", "By Jane Smith", "홍길동 기자 (hong@news.example)", " ")]
    ['홍길동·김철수 기자', 'Jane Smith', '홍길동 기자', None]
    """
    who = " ".join(_EMAIL.sub(" ", author or "").split())
    who = re.sub(r"^by\s+", "", who, flags=re.IGNORECASE)
    if not who:
        return None
    name = who.rpartition("=")[2]
    if _BARE_NAMES.fullmatch(who) and name not in _NOT_NAMES and not name.endswith(_NOT_NAME_ENDINGS):
        return f"{who} 기자"
    return who


def location(article: Article) -> str:
    return f"{article.source}:{article.line}" if article.line else article.source
