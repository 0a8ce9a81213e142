"""Time in questions: the period a question asks about, as inclusive Korean calendar days.

"1월 27일 코스피는?", "지난주 딥시크 소식", "10월 말", "설 연휴에 무슨 일이 있었어?", "what
happened last week?". Relative words resolve against a reference day (`today`), which the
caller chooses: the newest article's day by default, since an archive is read after the
fact and "어제" means the day before its last news. A day or month without a year is the
latest one on or before that day. Weeks run Monday to Sunday. "최근/요즘" is the last seven
days and marks the period `recent`: newer articles are preferred within it. A relative word
used to compare ("작년보다", "지난달 대비") names no period: the question is about now.

News about a period is written after it: a day's events in the next morning's paper, a week's
figures on the weekend, a month's statistics early in the next month, a quarter's earnings
weeks later. So a period has a kind, and a search covers it and the lag after it that fits its
kind (`Period.window`); an article printed in that lag must speak of the period in its own
dates (`speaks_of`: "지난주", "1월 넷째 주", "설 연휴 기간", "지난 27일" resolved from its own
publication day). A question about the future ("다음 주 …", "내일") looks the other way: what
was announced before it.

Only the first time expression found is used, in the order of `RULES` (the most specific
first). Left out on purpose: spans between two expressions ("10월 3일부터 11월 2일까지" reads
as 10월 3일), and "전주" (also the city).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .days import RULES

# days after a period in which reports of it appear, by kind: the next morning's paper (day); the
# weekend and the week after (week); early the next month (month), for a quarter's figures weeks
# later (quarter); the days after a holiday's end. Measured on the dated questions whose answer was
# reported later (eval/README.md): the longest gap was 1 day for a day, 8 for a week, 29 for a month.
LAG = {"day": 3, "days": 3, "week": 9, "part": 10, "month": 45, "quarter": 75, "half": 75, "holiday": 7, "year": 60, "recent": 0}
AHEAD = 21  # days before a future period in which it is announced

@dataclass(frozen=True)
class Period:
    start: date
    end: date
    said: str  # the words that named it, as typed
    recent: bool = False  # "최근", "요즘": prefer newer articles inside it
    reference: date | None = None  # the day relative words were counted from
    kind: str = "day"  # what it is (LAG's keys): how long after it is reported
    ahead: bool = False  # it lies after the reference day: what was announced before it is asked

    def window(self) -> tuple[date, date]:
        """The days a search covers: the period and the lag after it (never past the reference day:
        a person asking then could not have read later news), or, ahead, the days before it.

        >>> Period(date(2024, 10, 1), date(2024, 10, 31), "10월", reference=date(2024, 11, 30), kind="month").window()
        (datetime.date(2024, 10, 1), datetime.date(2024, 11, 30))
        >>> Period(date(2024, 10, 27), date(2024, 10, 27), "27일", reference=date(2024, 10, 28)).window()
        (datetime.date(2024, 10, 27), datetime.date(2024, 10, 28))
        """
        if self.ahead:
            return self.start - timedelta(days=AHEAD), min(self.end, self.reference or self.end)
        end = self.end + timedelta(days=LAG.get(self.kind, 3))
        return self.start, min(end, self.reference) if self.reference and self.reference >= self.end else end

    @property
    def label(self) -> str:
        """The days, as shown to the person asking.

        >>> Period(date(2024, 10, 21), date(2024, 10, 27), "지난주").label
        '2024-10-21 ~ 2024-10-27'
        """
        return str(self.start) if self.start == self.end else f"{self.start} ~ {self.end}"

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def find(question: str, today: date) -> Period | None:
    """The period a question names, or None.

    >>> today = date(2024, 10, 30)
    >>> [find(q, today).label for q in ("어제 코스피는?", "지난주 딥시크 소식", "10월 말 날씨", "9월 3일 무슨 일")]
    ['2024-10-29', '2024-10-21 ~ 2024-10-27', '2024-10-21 ~ 2024-10-31', '2024-09-03']
    >>> find("12월 3일 발표는?", today).label, find("추석 연휴에 뭐 있었어?", today).label
    ('2023-12-03', '2024-09-16 ~ 2024-09-18')
    >>> find("what happened last week?", today).label, find("설명해줘", today)
    ('2024-10-21 ~ 2024-10-27', None)
    """
    for pattern, resolve, kind in RULES:
        for m in pattern.finditer(question):
            if (found := _resolved(m, resolve, kind, today)) is not None:
                return found
    return None


def _resolved(m: re.Match, resolve, kind: str, today: date) -> Period | None:
    try:
        span = resolve(m, today)
    except ValueError:  # "10월 3~32일"
        return None
    if not span:
        return None
    start, end, *recent = span
    if kind in ("part", "month", "day") and re.match(r"\s*(?:까지|기준|현재)", m.string[m.end() :]):
        kind = "quarter"  # "9월 말 기준 인구", "10월까지 누적": a statistic as of then, reported weeks later
    return Period(start, end, m.group(0).strip(), bool(recent), today, kind, kind == "ahead" or start > today)


def speaks_of(text: str, published: date | None, period: Period) -> bool:
    """The text names a day in the period, its dates resolved from its own publication day
    ("지난 27일" in an article of 10월 28일 is 10월 27일; "지난주" in one of 11월 2일 is 10월 21~27일).

    >>> p = Period(date(2024, 10, 21), date(2024, 10, 27), "지난주", kind="week")
    >>> speaks_of("지난주 휘발유 가격은 1600원이었다.", date(2024, 11, 2), p), speaks_of("이번 주 가격은 내렸다.", date(2024, 11, 2), p)
    (True, False)
    >>> speaks_of("지난 25일 집회에는 4만 명이 모였다.", date(2024, 10, 28), p)
    True
    """
    if published is None:
        return False
    for pattern, resolve, kind in RULES:
        for m in pattern.finditer(text):
            found = _resolved(m, resolve, kind, published)
            if found is not None and found.start <= period.end and found.end >= period.start and kind != "recent":
                return True
    return False


def without_time(question: str, period: Period | None) -> str:
    """The question with the words that named its period taken out (what it is about).

    >>> without_time("10월 25일 코스피는?", find("10월 25일 코스피는?", date(2024, 10, 30)))
    '코스피는?'
    >>> without_time("10월 중순쯤 한강 책", find("10월 중순쯤 한강 책", date(2024, 10, 30)))
    '한강 책'
    """
    if period is None or period.said not in question:
        return question
    said = re.escape(period.said) + r"\s*(?:쯤|경|께|무렵|즈음)?"
    return " ".join(re.sub(said, " ", question, count=1).split())
