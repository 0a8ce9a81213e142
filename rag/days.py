"""The words of time, resolved to Korean calendar days: the rules `period.find` tries in order.

Each rule is a pattern, the days it names counted from a reference day, and its kind (how long
after it such a period is reported: period.LAG). A day or month without a year is the latest one
on or before the reference day; weeks run Monday to Sunday; "최근/요즘" is the last RECENT_DAYS days
(kind "recent"); "내일", "다음 주" lie ahead (kind "ahead"). A relative word used to compare
("작년보다", "지난달 대비") names nothing.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

RECENT_DAYS = 7

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


Rule = tuple[re.Pattern, Callable[[re.Match, date], Span | None], str]  # the pattern, its days, its kind (LAG)
_WEEKDAYS = "월화수목금토일"
_NTH = {"첫": 0, "첫째": 0, "둘째": 1, "셋째": 2, "넷째": 3, "다섯째": 4}
RULES: list[Rule] = [
    (re.compile(r"(?P<y>20\d\d)\s*[.\-/년]\s*(?P<m>\d{1,2})\s*[.\-/월]\s*(?P<d>\d{1,2})일?"),
     lambda m, t: (d := _latest(int(m["m"]), int(m["d"]), t, m["y"])) and (d, d), "day"),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일?\s*(?:~|-|부터|에서)\s*(?P<d2>\d{1,2})\s*일"),
     lambda m, t: (a := _latest(int(m["m"]), int(m["d"]), t, _year(m))) and (a, a.replace(day=int(m["d2"]))), "days"),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일" + _NOT_DAY_COUNT),
     lambda m, t: (d := _latest(int(m["m"]), int(m["d"]), t, _year(m))) and (d, d), "day"),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<w>첫째|첫|둘째|셋째|넷째|다섯째|마지막)\s*주"),
     lambda m, t: _week_of_month(_month(int(m["m"]), t, _year(m)), m["w"]), "week"),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월\s*(?P<p>초순|초|상순|중순|하순|말경|말)(?:" + _AFTER + ")"),
     lambda m, t: _part(_month(int(m["m"]), t, _year(m)), {"초": "early", "상": "early", "중": "mid"}.get(m["p"][0], "late")), "part"),
    (re.compile(r"(?i)\b(?:on\s+)?" + _EN_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(?P<yen>20\d\d))?"),
     lambda m, t: (d := _latest(_MONTHS[m["mon"].lower()], int(m["d"]), t, m["yen"])) and (d, d), "day"),
    (re.compile(r"(?i)\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _EN_MONTH + r"\b(?:,?\s*(?P<yen>20\d\d))?"),
     lambda m, t: (d := _latest(_MONTHS[m["mon"].lower()], int(m["d"]), t, m["yen"])) and (d, d), "day"),
    (re.compile(r"(?i)\b(?P<p>early|mid|late)[-\s]+" + _EN_MONTH + r"\b(?:\s+(?P<yen>20\d\d))?"),
     lambda m, t: _part(_month(_MONTHS[m["mon"].lower()], t, m["yen"]), m["p"].lower()), "part"),
    (re.compile(r"(?:(?P<y>20\d\d)\s*년\s*)?(?P<q>[1-4])\s*분기|(?i:\b(?:Q(?P<qen>[1-4])|(?P<qth>first|second|third|fourth) quarter)\b)"),
     lambda m, t: _quarter(int(m["q"] or m["qen"] or _ORDINAL[m["qth"].lower()]), t, m["y"]), "quarter"),
    (re.compile(r"(?:(?P<y>20\d\d)\s*년\s*)?(?P<h>상반기|하반기)"), lambda m, t: _half(m["h"] == "하반기", t, m["y"]), "half"),
    (re.compile(_YEAR + r"(?P<m>\d{1,2})\s*월(?!\s*\d)"), lambda m, t: _month(int(m["m"]), t, _year(m)), "month"),
    (re.compile(r"(?i)\b(?:(?:in|during)\s+" + _EN_MONTH + r"\b(?:\s+(?P<yen>20\d\d))?|" + rf"(?P<mon2>{_MONTH_NAMES})\.?" + r"\s+(?P<yen2>20\d\d))\b"),
     lambda m, t: _month(_MONTHS[(m["mon"] or m["mon2"]).lower()], t, m["yen"] or m["yen2"]), "month"),
    *[(re.compile(_YEAR + r"(?:" + words + r")"), lambda m, t, n=name: _holiday_span(n, t, _year(m)), "holiday") for words, name in _HOLIDAYS],
    (re.compile(r"오늘|금일|(?i:\btoday\b)"), lambda m, t: (t, t), "day"),
    (re.compile(r"그저께|그제|엊그제|(?i:the day before yesterday)"), lambda m, t: (t - timedelta(2), t - timedelta(2)), "day"),
    (re.compile(r"어제|어저께|(?i:\byesterday\b)"), lambda m, t: (t - timedelta(1), t - timedelta(1)), "day"),
    (re.compile(r"(?P<n>\d{1,3})\s*일\s*전|(?i:(?P<en>\d{1,3})\s+days?\s+ago)"),
     lambda m, t: (d := t - timedelta(int(m["n"] or m["en"]))) and (d, d), "day"),
    (re.compile(r"지난\s*(?P<w>[월화수목금토일])요일|(?i:\blast\s+(?P<wen>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)"),
     lambda m, t: (d := _last_weekday(t, m["w"], m["wen"])) and (d, d), "day"),
    (re.compile(r"지난\s*주말|(?i:\blast\s+weekend\b)"), lambda m, t: (_week(t, 1)[0] + timedelta(5), _week(t, 1)[1]), "days"),
    (re.compile(r"최근\s*(?P<n>\d{1,3})\s*일|지난\s*(?P<n2>\d{1,3})\s*일\s*(?:간|동안)|(?i:(?:past|last)\s+(?P<en>\d{1,3})\s+days)"),
     lambda m, t: _last_days(t, int(m["n"] or m["n2"] or m["en"])), "days"),
    (re.compile(r"(?:지난|최근)\s*(?P<n>\d{1,2})\s*주|(?i:(?:past|last)\s+(?P<en>\d{1,2})\s+weeks)"),
     lambda m, t: _last_days(t, 7 * int(m["n"] or m["en"])), "days"),
    (re.compile("(?:" + r"이번\s*주|금주|(?i:\bthis\s+week\b)" + ")" + _NOT_COMPARED), lambda m, t: _week(t, 0), "week"),
    (re.compile("(?:" + r"지난\s*주|저번\s*주|(?i:\blast\s+week\b)" + ")" + _NOT_COMPARED), lambda m, t: _week(t, 1), "week"),
    (re.compile(r"(?i:\bpast\s+week\b)"), lambda m, t: _last_days(t, 7), "days"),
    (re.compile("(?:" + r"이번\s*달|이달|금월|(?i:\bthis\s+month\b)" + ")" + _NOT_COMPARED), lambda m, t: (t.replace(day=1), t), "month"),
    (re.compile("(?:" + r"지난\s*달|저번\s*달|(?i:\blast\s+month\b)" + ")" + _NOT_COMPARED), lambda m, t: _month_before(t), "month"),
    # the future: what was announced before it (an archive holds no news of it yet)
    (re.compile(r"내일|(?i:\btomorrow\b)"), lambda m, t: (t + timedelta(1), t + timedelta(1)), "ahead"),
    (re.compile(r"모레"), lambda m, t: (t + timedelta(2), t + timedelta(2)), "ahead"),
    (re.compile(r"다음\s*주|(?i:\bnext\s+week\b)"), lambda m, t: _week(t, -1), "ahead"),
    (re.compile(r"다음\s*달|(?i:\bnext\s+month\b)"), lambda m, t: _month_after(t), "ahead"),
    (re.compile(r"오는\s*(?P<d>\d{1,2})\s*일"), lambda m, t: (d := _next_day_of_month(int(m["d"]), t)) and (d, d), "ahead"),
    (re.compile("(?:" + r"올해|금년|(?<![가-힣])올\s+들어|(?i:\bthis\s+year\b)" + ")" + _NOT_COMPARED), lambda m, t: (date(t.year, 1, 1), t), "year"),
    (re.compile("(?:" + r"작년|지난해|(?i:\blast\s+year\b)" + ")" + _NOT_COMPARED), lambda m, t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31)), "year"),
    (re.compile(r"내년|(?i:\bnext\s+year\b)"), lambda m, t: (date(t.year + 1, 1, 1), date(t.year + 1, 12, 31)), "ahead"),
    (re.compile(r"(?P<y>20\d\d)\s*년(?!\s*\d)|(?i:\bin\s+(?P<yen>20\d\d)\b)"),
     lambda m, t: (date(int(_year(m)), 1, 1), date(int(_year(m)), 12, 31)), "year"),
    (re.compile(r"최근|요즘|요새|근래|요즈음|(?i:\b(?:recently|lately|these days|latest)\b)"),
     lambda m, t: (*_last_days(t, RECENT_DAYS), "recent"), "recent"),
    (re.compile(r"(?<![\d월./])(?:지난\s*)?(?P<d>\d{1,2})\s*일" + _NOT_DAY_COUNT + r"(?!\s*\d)"),
     lambda m, t: (d := _day_of_month(int(m["d"]), t)) and (d, d), "day"),
]
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def _week_of_month(month_span: Span | None, nth: str) -> Span | None:
    """"11월 첫째 주": the n-th week (Monday to Sunday) that begins in the month; "마지막 주" the last.

    >>> _week_of_month((date(2024, 11, 1), date(2024, 11, 30)), "첫째"), _week_of_month((date(2024, 10, 1), date(2024, 10, 31)), "마지막")[0]
    ((datetime.date(2024, 11, 4), datetime.date(2024, 11, 10)), datetime.date(2024, 10, 28))
    """
    if month_span is None:
        return None
    first, last = month_span
    mondays = [first + timedelta(days=i) for i in range((last - first).days + 1) if (first + timedelta(days=i)).weekday() == 0]
    monday = mondays[-1] if nth == "마지막" else mondays[_NTH[nth]] if _NTH[nth] < len(mondays) else None
    return (monday, monday + timedelta(days=6)) if monday else None


def _quarter(q: int, today: date, year: str | None) -> Span:
    """The latest such quarter that has begun by today (or the year's, if one is named)."""
    y = int(year) if year else (today.year if date(today.year, 3 * q - 2, 1) <= today else today.year - 1)
    end_month = 3 * q
    return date(y, end_month - 2, 1), date(y, end_month, calendar.monthrange(y, end_month)[1])


def _half(second: bool, today: date, year: str | None) -> Span:
    y = int(year) if year else (today.year if not second or today.month >= 7 else today.year - 1)
    return (date(y, 7, 1), date(y, 12, 31)) if second else (date(y, 1, 1), date(y, 6, 30))


def _last_weekday(today: date, korean: str | None, english: str | None) -> date:
    """"지난 토요일": the latest such day before today."""
    target = _WEEKDAYS.index(korean) if korean else ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                                         "sunday"].index(english.lower())
    back = (today.weekday() - target) % 7 or 7
    return today - timedelta(days=back)


def _month_after(today: date) -> Span:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _next_day_of_month(n: int, today: date) -> date | None:
    """"오는 20일": the first 20th after today."""
    for ahead in range(3):
        y, m = divmod(today.year * 12 + today.month - 1 + ahead, 12)
        if n <= calendar.monthrange(y, m + 1)[1] and (d := date(y, m + 1, n)) > today:
            return d
    return None


def _day_of_month(n: int, today: date) -> date | None:
    """"27일" alone: the latest 27th on or before today."""
    for back in range(3):
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        if n <= calendar.monthrange(y, m + 1)[1] and (d := date(y, m + 1, n)) <= today:
            return d
    return None
