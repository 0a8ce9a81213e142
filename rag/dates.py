"""Article dates: read from feed metadata or from an article's first lines, stored in one form.

Stored form (ISO 8601, Korean time): "2025-01-27T10:21:00+09:00" when the time is known,
"2025-01-27" when only the day is (a calendar day in Korea). A time given in another zone
is converted to KST, so the day a filter sees is the day printed in a Korean paper. A date
that cannot be read is left out: an article without a date stays undated, never "today".

Only the first lines of a .txt/.md article are looked at, and only for a date that is
labelled ("입력 2025.01.28 10:21", "등록 …") or that stands alone on its line: the body of
an article is full of other days ("지난 27일", "2025년 1월 27일 발표한…").
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

KST = timezone(timedelta(hours=9))

_KOREAN = re.compile(
    r"(?P<y>\d{4})\s*(?:[.\-/]|년)\s*(?P<m>\d{1,2})\s*(?:[.\-/]|월)\s*(?P<d>\d{1,2})\s*일?\.?"
    r"(?:\s*\(\w\))?"  # a weekday: "2025.01.28(화)"
    r"(?:\s*(?P<ampm>오전|오후|AM|PM|am|pm)?\s*(?P<H>\d{1,2})\s*(?::|시)\s*(?P<M>\d{1,2})?\s*분?(?::(?P<S>\d{2}))?)?"
)
_LABEL = r"(?:최초\s*)?(?:기사\s*)?(?:입력|등록|게재|송고|작성|발행|승인|Published|Posted)\s*(?:일시|시간|일)?\s*[:：]?\s*"
_LABELLED = re.compile(_LABEL + _KOREAN.pattern, re.IGNORECASE)
_ALONE = re.compile(r"^\W{0,3}" + _KOREAN.pattern + r"\W{0,3}$")
_HEAD_LINES, _HEAD_CHARS = 4, 200


def parse(value: str | None) -> str | None:
    """The stored form of a date written as feeds and files write it; None if not understood.

    >>> parse("2025-01-27T10:00:00+09:00"), parse("Mon, 27 Jan 2025 01:00:00 GMT"), parse("2025.01.27")
    ('2025-01-27T10:00:00+09:00', '2025-01-27T10:00:00+09:00', '2025-01-27')
    >>> parse("2025년 1월 27일 오후 3시 5분"), parse("어제"), parse("2025-02-30")
    ('2025-01-27T15:05:00+09:00', None, None)
    """
    value = (value or "").strip()
    if not value:
        return None
    for read in (_iso, _rfc2822, _korean):
        try:
            if (found := read(value)) is not None:
                return _stored(found)
        except (ValueError, TypeError, OverflowError):
            continue
    return None


def from_text(text: str) -> str | None:
    """The publication date written at the top of an article, in the stored form.

    >>> from_text("삼성전자 실적 발표\\n입력 2025.01.28 10:21 | 수정 2025.01.29 09:00\\n본문")
    '2025-01-28T10:21:00+09:00'
    >>> from_text("2025년 1월 27일\\n본문"), from_text("지난 2025년 1월 27일 발표한 실적은 …")
    ('2025-01-27', None)
    """
    head = [line[:_HEAD_CHARS] for line in text.strip().splitlines()[:_HEAD_LINES]]
    for pattern in (_LABELLED, _ALONE):
        for line in head:
            if (m := pattern.search(line.strip())) and (found := _from_match(m)) is not None:
                return _stored(found)
    return None


@lru_cache(maxsize=1 << 17)  # asked per article for every period filter: an archive holds few distinct dates
def day(stored: str | None) -> date | None:
    """The Korean calendar day of a stored (or raw) date.

    >>> day("2025-01-27T23:30:00+09:00"), day("2025-01-27T15:30:00Z"), day(None)
    (datetime.date(2025, 1, 27), datetime.date(2025, 1, 28), None)
    """
    normal = parse(stored)
    return date.fromisoformat(normal[:10]) if normal else None


def shown(stored: str | None) -> str | None:
    """How a date is shown next to a source: "2025-01-28 10:21", or the day alone.

    >>> shown("2025-01-28T10:21:00+09:00"), shown("2025-01-28"), shown("not a date")
    ('2025-01-28 10:21', '2025-01-28', None)
    """
    normal = parse(stored)
    return None if normal is None else normal[:10] + (" " + normal[11:16] if len(normal) > 10 else "")


def korean(d: date) -> str:
    """How a day is written in Korean prose.

    >>> korean(date(2025, 1, 27))
    '2025년 1월 27일'
    """
    return f"{d.year}년 {d.month}월 {d.day}일"


def _iso(value: str) -> datetime | date | None:
    if not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _rfc2822(value: str) -> datetime | None:
    if not re.match(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", value):
        return None
    return parsedate_to_datetime(value)


def _korean(value: str) -> datetime | date | None:
    m = _KOREAN.fullmatch(value)
    return _from_match(m) if m else None


def _from_match(m: re.Match) -> datetime | date | None:
    try:
        d = date(int(m["y"]), int(m["m"]), int(m["d"]))
        if m["H"] is None:
            return d
        hour, half = int(m["H"]), (m["ampm"] or "").lower()
        hour = hour % 12 + (12 if half in ("오후", "pm") else 0) if half else hour
        return datetime(d.year, d.month, d.day, hour, int(m["M"] or 0), int(m["S"] or 0))
    except ValueError:  # "2025.02.30", "25:99"
        return None


def _stored(found: datetime | date) -> str:
    if not isinstance(found, datetime):
        return found.isoformat()
    aware = found.replace(tzinfo=KST) if found.tzinfo is None else found.astimezone(KST)
    return aware.isoformat(timespec="seconds")
