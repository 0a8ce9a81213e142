"""Time in questions: the period a question asks about, as inclusive Korean calendar days.

"1월 27일 코스피는?", "지난주 딥시크 소식", "10월 말", "설 연휴에 무슨 일이 있었어?", "what
happened last week?". Relative words resolve against a reference day (`today`), which the
caller chooses: the newest article's day by default, since an archive is read after the
fact and "어제" means the day before its last news. A day or month without a year is the
latest one on or before that day. Weeks run Monday to Sunday. "최근/요즘" is the last seven
days and marks the period `recent`: newer articles are preferred within it. A relative word
used to compare ("작년보다", "지난달 대비") names no period: the question is about now.

Only the first time expression found is used, in the order of `_RULES` (the most specific
first). Left out on purpose: future expressions ("내일", "다음 주": an archive holds none),
spans between two expressions ("10월 3일부터 11월 2일까지" reads as 10월 3일), and "전주"
(also the city).
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

RECENT_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    said: str  # the words that named it, as typed
    recent: bool = False  # "최근", "요즘": prefer newer articles inside it
    reference: date | None = None  # the day relative words were counted from

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
    for pattern, resolve in _RULES:
        for m in pattern.finditer(question):
            try:
                span = resolve(m, today)
            except ValueError:  # "10월 3~32일"
                continue
            if span:
                start, end, *recent = span
                return Period(start, end, m.group(0).strip(), bool(recent), today)
    return None


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


# -- how each kind of expression resolves --------------------------------------------------

Span = tuple  # (start, end) or (start, end, "recent")


def _latest(month: int, day: int, today: date, year: str | None) -> date | None:
    """The date with that month and day in `year`, else the latest one on or before today."""
    try:
        if year:
            return date(int(year), month, day)
        d = date(today.year, month, day)
        return d if d <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _month(month: int, today: date, year: str | None) -> Span | None:
    if not 1 <= month <= 12:
        return None
    y = int(year) if year else (today.year if month <= today.month else today.year - 1)
    return date(y, month, 1), date(y, month, calendar.monthrange(y, month)[1])


def _part(month_span: Span | None, part: str) -> Span | None:
    """초/early: 1–10, 중순/mid: 11–20, 말/late: 21–end."""
    if month_span is None:
        return None
    start, end = month_span
    first, last = {"early": (1, 10), "mid": (11, 20), "late": (21, end.day)}[part]
    return start.replace(day=first), start.replace(day=last)


def _week(today: date, weeks_back: int) -> Span:
    monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
    return monday, monday + timedelta(days=6)


def _last_days(today: date, n: int) -> Span:
    return today - timedelta(days=n - 1), today


def _month_before(today: date) -> Span:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


@lru_cache(maxsize=64)
def _holiday(name: str, year: int) -> Span | None:
    """The days of a Korean public holiday in a year (설날 and 추석 with the days around
    them), from the `holidays` package's tables."""
    import holidays  # noqa: PLC0415 - a 14 MB table, only needed for a holiday question

    days = sorted(d for d, n in holidays.country_holidays("KR", years=year, language="ko").items() if name in n)
    return (days[0], days[-1]) if days else None


def _holiday_span(name: str, today: date, year: str | None) -> Span | None:
    if year:
        return _holiday(name, int(year))
    for y in (today.year, today.year - 1):
        if (span := _holiday(name, y)) and span[0] <= today:
            return span
    return None


_MONTHS = {m.lower(): i for i in range(1, 13) for m in (calendar.month_name[i], calendar.month_abbr[i])}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_EN_MONTH = rf"(?P<mon>{_MONTH_NAMES})\.?"
_HOLIDAYS = (  # words people use -> the name in the holiday table
    (r"설\s*(?:연휴|명절|날|당일|전후|때)|(?<![가-힣])설(?:에|엔)(?![가-힣])|구정|(?i:lunar new year|seollal)", "설날"),
    (r"추석|한가위|(?i:chuseok)", "추석"),
    (r"크리스마스|성탄절|(?i:christmas)", "기독탄신일"),
    (r"한글날|(?i:hangeul day|hangul day)", "한글날"),
    (r"개천절|(?i:national foundation day)", "개천절"),
    (r"광복절|(?i:liberation day)", "광복절"),
    (r"삼일절|3\.1절|(?i:independence movement day)", "삼일절"),
    (r"어린이날|(?i:children'?s day)", "어린이날"),
    (r"현충일|(?i:memorial day)", "현충일"),
)
_YEAR = r"(?:(?P<y>20\d\d)\s*년\s*(?:도\s*)?|(?i:(?P<yen>20\d\d)\s+))?"
_NOT_DAY_COUNT = r"(?!\s*(?:간|동안|전|후|째|만|연속|부터\s*\d))"
_AFTER = r"(?![가-힣a-zA-Z])|(?=에|의|엔|쯤|경|께|무렵|부터|까지)"
_NOT_COMPARED = r"(?!\s*(?:보다|대비|에\s*비해|과\s*비교|와\s*비교|같은\s*기간|동기))"


def _year(m: re.Match) -> str | None:
    return m.groupdict().get("y") or m.groupdict().get("yen")


Rule = tuple[re.Pattern, Callable[[re.Match, date], Span | None]]
_RULES: list[Rule] = [
    (re.compile(r"(?P<y>20\d\d)\s*[.\-/년]\s*(?P<m>\d{1,2})\s*[.\-/월]\s*(?P<d>\d{1,2})일?"),
     lambda m, t: (d := _latest(int(m["m"]), int(m["d"]), t, m["y"])) and (d, d)),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일?\s*(?:~|-|부터|에서)\s*(?P<d2>\d{1,2})\s*일"),
     lambda m, t: (a := _latest(int(m["m"]), int(m["d"]), t, _year(m))) and (a, a.replace(day=int(m["d2"])))),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일" + _NOT_DAY_COUNT),
     lambda m, t: (d := _latest(int(m["m"]), int(m["d"]), t, _year(m))) and (d, d)),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<p>초순|초|상순|중순|하순|말경|말)(?:" + _AFTER + ")"),
     lambda m, t: _part(_month(int(m["m"]), t, _year(m)), {"초": "early", "상": "early", "중": "mid"}.get(m["p"][0], "late"))),
    (re.compile(r"(?i)\b(?:on\s+)?" + _EN_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(?P<yen>20\d\d))?"),
     lambda m, t: (d := _latest(_MONTHS[m["mon"].lower()], int(m["d"]), t, m["yen"])) and (d, d)),
    (re.compile(r"(?i)\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _EN_MONTH + r"\b(?:,?\s*(?P<yen>20\d\d))?"),
     lambda m, t: (d := _latest(_MONTHS[m["mon"].lower()], int(m["d"]), t, m["yen"])) and (d, d)),
    (re.compile(r"(?i)\b(?P<p>early|mid|late)[-\s]+" + _EN_MONTH + r"\b(?:\s+(?P<yen>20\d\d))?"),
     lambda m, t: _part(_month(_MONTHS[m["mon"].lower()], t, m["yen"]), m["p"].lower())),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월(?!\s*\d)"), lambda m, t: _month(int(m["m"]), t, _year(m))),
    (re.compile(r"(?i)\b(?:(?:in|during)\s+" + _EN_MONTH + r"\b(?:\s+(?P<yen>20\d\d))?|" + rf"(?P<mon2>{_MONTH_NAMES})\.?" + r"\s+(?P<yen2>20\d\d))\b"),
     lambda m, t: _month(_MONTHS[(m["mon"] or m["mon2"]).lower()], t, m["yen"] or m["yen2"])),
    *[(re.compile(_YEAR + r"(?:" + words + r")"), lambda m, t, n=name: _holiday_span(n, t, _year(m))) for words, name in _HOLIDAYS],
    (re.compile(r"오늘|금일|(?i:\btoday\b)"), lambda m, t: (t, t)),
    (re.compile(r"그저께|그제|엊그제|(?i:the day before yesterday)"), lambda m, t: (t - timedelta(2), t - timedelta(2))),
    (re.compile(r"어제|어저께|(?i:\byesterday\b)"), lambda m, t: (t - timedelta(1), t - timedelta(1))),
    (re.compile(r"(?P<n>\d{1,3})\s*일\s*전|(?i:(?P<en>\d{1,3})\s+days?\s+ago)"),
     lambda m, t: (d := t - timedelta(int(m["n"] or m["en"]))) and (d, d)),
    (re.compile(r"최근\s*(?P<n>\d{1,3})\s*일|지난\s*(?P<n2>\d{1,3})\s*일\s*(?:간|동안)|(?i:(?:past|last)\s+(?P<en>\d{1,3})\s+days)"),
     lambda m, t: _last_days(t, int(m["n"] or m["n2"] or m["en"]))),
    (re.compile(r"(?:지난|최근)\s*(?P<n>\d{1,2})\s*주|(?i:(?:past|last)\s+(?P<en>\d{1,2})\s+weeks)"),
     lambda m, t: _last_days(t, 7 * int(m["n"] or m["en"]))),
    (re.compile("(?:" + r"이번\s*주|금주|(?i:\bthis\s+week\b)" + ")" + _NOT_COMPARED), lambda m, t: _week(t, 0)),
    (re.compile("(?:" + r"지난\s*주|저번\s*주|(?i:\blast\s+week\b)" + ")" + _NOT_COMPARED), lambda m, t: _week(t, 1)),
    (re.compile(r"(?i:\bpast\s+week\b)"), lambda m, t: _last_days(t, 7)),
    (re.compile("(?:" + r"이번\s*달|이달|금월|(?i:\bthis\s+month\b)" + ")" + _NOT_COMPARED), lambda m, t: (t.replace(day=1), t)),
    (re.compile("(?:" + r"지난\s*달|저번\s*달|(?i:\blast\s+month\b)" + ")" + _NOT_COMPARED), lambda m, t: _month_before(t)),
    (re.compile("(?:" + r"올해|금년|(?<![가-힣])올\s+들어|(?i:\bthis\s+year\b)" + ")" + _NOT_COMPARED), lambda m, t: (date(t.year, 1, 1), t)),
    (re.compile("(?:" + r"작년|지난해|(?i:\blast\s+year\b)" + ")" + _NOT_COMPARED), lambda m, t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31))),
    (re.compile(r"(?P<y>20\d\d)\s*년(?!\s*\d)|(?i:\bin\s+(?P<yen>20\d\d)\b)"),
     lambda m, t: (date(int(_year(m)), 1, 1), date(int(_year(m)), 12, 31))),
    (re.compile(r"최근|요즘|요새|근래|요즈음|(?i:\b(?:recently|lately|these days|latest)\b)"),
     lambda m, t: (*_last_days(t, RECENT_DAYS), "recent")),
    (re.compile(r"(?<![\d월./])(?:지난\s*)?(?P<d>\d{1,2})\s*일" + _NOT_DAY_COUNT + r"(?!\s*\d)"),
     lambda m, t: (d := _day_of_month(int(m["d"]), t)) and (d, d)),
]


def _day_of_month(n: int, today: date) -> date | None:
    """"27일" alone: the latest 27th on or before today."""
    for back in range(3):
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        if n <= calendar.monthrange(y, m + 1)[1] and (d := date(y, m + 1, n)) <= today:
            return d
    return None
