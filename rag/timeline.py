"""Timelines: what happened with a story, as dated events told by one or more articles.

"딥시크 관련 뉴스 정리해줘", "명태균 사건 어떻게 됐어?", "What happened with the subway strike?" ask
for a story, not a fact. The code answers without the model:
- the story's articles: a wide search of the topic (the question without its story words and
  its period) within the period asked, kept when they name the topic's names (or, with none,
  most of its words), near-duplicates folded in;
- events, not articles: articles a day apart whose headlines share most of their words (or whose
  texts are the same story re-sent) are one event; a follow-up on a later day is a new event;
- each event's line: the day it happened (the day its lead names, when that is the day before
  the paper, else the publication day), the headline of the article that states it best (the
  one most like the event's others), cited, and how many articles and outlets told it.
Every line is a source's own headline, cited and checkable like an answer; the model writes
nothing. The timeline is an `Answer` (its text one line per event, `timeline` holding the
events), so the page, the memo, `--json` and the API show it as they show answers.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from collections.abc import Sequence
from datetime import date, timedelta

from . import dates
from .asked import parse
from .compose import citation
from .config import Settings
from .embed import Embedder
from .korean import CONTENT_TAGS, PROPER_TAGS, key, kiwi, tokens
from .period import Period
from .period import find as find_period
from .retrieve import fused_hits, same_story, search_both
from .split import sentence_spans
from .stores.base import Store
from .types import Article, Event, Evidence, Hit, Scope, Turn

# how a person asks for a story ("정리해줘", "어떻게 됐어", "what happened"), and the words to drop from its topic
_STORY = re.compile(r"정리|요약|흐름|경과|타임라인|타임 라인|연대기|어떻게\s?(?:됐|되었|돼\s?가|진행)|근황|소식|뉴스|이후|전개|"
                    r"(?i:what happened|timeline|the latest|latest on|what's going on|story of)")
_FILLER = re.compile(r"(?:관련|에 대한|에 대해|의)?\s*(?:뉴스|소식|기사)?\s*(?:들)?\s*(?:정리|요약|흐름|경과|타임\s?라인|연대기|근황|전개)"
                     r"(?:해\s?줘|해\s?주세요|좀|알려\s?줘|알려\s?주세요|보여\s?줘)?|어떻게\s?(?:됐|되었|돼\s?가|진행)\S*|"
                     r"무슨\s?일\S*|있었\S*|알려\s?줘|(?i:what happened (?:with|to|in)|timeline of|what's the latest on|latest on|"
                     r"what's going on with|the story of)|[?？.!]")
MAX_ARTICLES = 100  # chunks searched for a story: two months' coverage of one story is rarely more
SAME_EVENT = 0.34  # share of two headlines' words above which articles a day apart tell one event


def asks_story(question: str) -> bool:
    """
    >>> asks_story("딥시크 관련 뉴스 정리해줘"), asks_story("혼다랑 닛산 합병 어떻게 됐어?"), asks_story("딥시크는 어떤 회사야?")
    (True, True, False)
    """
    return bool(_STORY.search(question))


def topic_of(question: str) -> str:
    """The story a question asks for, without the words that ask for one.

    >>> topic_of("딥시크 관련 뉴스 정리해줘"), topic_of("혼다랑 닛산 합병 어떻게 됐어?"), topic_of("What happened with DeepSeek?")
    ('딥시크', '혼다랑 닛산 합병', 'DeepSeek')
    >>> topic_of("에 명태균 의혹 수사 어떻게 진행됐어?")  # "10월에 …" with its period taken out
    '명태균 의혹 수사'
    """
    topic = " ".join(_FILLER.sub(" ", question).split())
    return LEFT_BY_PERIOD.sub("", topic) or question


# the particle a period word leaves at the front when it is taken out ("10월에 명태균 …")
LEFT_BY_PERIOD = re.compile(r"^(?:에서|에는|에|엔|의|부터|까지|동안)\s+")


def story(index: Store, embedder: Embedder, topic: str, settings: Settings, scope: Scope = Scope()) -> list[Hit]:
    """The hits of the topic that name it, best first, near-duplicates folded into their first."""
    words = tokens(topic)
    dense, sparse = search_both(index, embedder, topic, words, max(settings.candidates, MAX_ARTICLES), scope)
    hits = fused_hits(index, dense, sparse, settings.dense_weight, MAX_ARTICLES, scope)
    names = _names(topic)
    kept, seen = [], set()
    for h in hits:
        text = key(f"{h.article.title} {h.article.text}")
        named = all(n in text for n in names) if names else sum(key(w) in text for w in words) * 2 >= max(len(words), 1)
        if named and h.article.id not in seen:
            seen.add(h.article.id)
            kept.append(h)
    return kept


def _names(topic: str) -> list[str]:
    """The topic's names (proper nouns and Latin words), as keys: what every article of the story names."""
    toks = kiwi().tokenize(topic)
    return [key(t.form) for t in toks if t.tag in PROPER_TAGS and len(t.form) > 1]


def events(hits: Sequence[Hit]) -> list[Event]:
    """The hits' articles (and their copies) as events in date order; undated articles (a file
    without dates) make events of unknown day, after the dated ones."""
    articles = list(dict.fromkeys(a for h in hits for a in (h.article, *h.copies)))
    articles.sort(key=lambda a: (dates.day(a.date) or date.max, a.date or ""))
    groups: list[list[Article]] = []
    for a in articles:
        day = happened(a)
        for g in groups:
            other = happened(g[0])
            near = abs((other - day).days) <= 1 if day and other else day is other
            if near and any(_same_event(a, b) for b in g):
                g.append(a)
                break
        else:
            groups.append([a])
    return sorted((_event(g) for g in groups), key=lambda e: (e.day or date.max, e.text))


def _same_event(a: Article, b: Article) -> bool:
    x, y = _title_words(a.title), _title_words(b.title)
    shared = len(x & y) / max(1, min(len(x), len(y)))
    return shared >= SAME_EVENT * 2 or (shared >= SAME_EVENT and len(x & y) >= 2) or same_story(a.text, b.text)


@lru_cache(maxsize=4096)
def _title_words(title: str) -> frozenset[str]:
    return frozenset(t.form for t in kiwi().tokenize(title) if t.tag in CONTENT_TAGS and len(t.form) > 1)


def happened(a: Article) -> date | None:
    """The day the article's event happened: the day its lead names, when that is up to three
    days before it was printed ("지난 27일", "27일(현지시간)"), else the day it was printed."""
    published = dates.day(a.date)
    if published is None:
        return None
    spans = sentence_spans(a.text)
    lead = a.text[slice(*spans[0])] if spans else a.text[:200]
    period = find_period(lead, published) if published else None
    if period and period.start == period.end and published - timedelta(days=3) <= period.start <= published:
        return period.start
    return published


def _event(group: list[Article]) -> Event:
    """The group as an event: told in the headline most like the others' (the article that states it best)."""
    counts = Counter(w for a in group for w in _title_words(a.title))
    best = max(group, key=lambda a: (sum(counts[w] for w in _title_words(a.title)), -len(a.title)))
    title = re.sub(r"^\s*(\[[^\]]{1,12}\]|<[^>]{1,12}>|【[^】]{1,12}】)\s*", "", best.title).strip()

    days = [d for a in group if (d := happened(a))]
    return Event(min(days) if days else None, title, citation(Evidence(best, 0, 0, headline=True)), tuple(group))


def within(found: list[Event], period: Period | None) -> list[Event]:
    """The events of the period (an event told after it must have happened in it)."""
    return [e for e in found if period is None or (e.day is not None and period.holds(e.day))]


def timeline_text(topic: str, found: Sequence[Event], label: str | None) -> str:
    """The title line and one line per event, each cited [n] in order.

    >>> from rag.types import Article, Citation
    >>> a = Article("a", "검찰, 명태균 자택 압수수색", "x", "s", outlet="조선일보", date="2024-10-09")
    >>> e = Event(date(2024, 10, 9), "검찰, 명태균 자택 압수수색", Citation(1, a, a.title, None, 0, 0, True), (a,))
    >>> print(timeline_text("명태균", [e], "2024-10-01 ~ 2024-10-31"))
    명태균 · 2024-10-01 ~ 2024-10-31 · 기사 1건 · 사건 1건
    - 10월 9일 — 검찰, 명태균 자택 압수수색 [1] (기사 1건 · 1개 언론사)
    """
    articles = sum(len(e.articles) for e in found)
    days = [e.day for e in found if e.day]
    span = label or (f"{days[0]} ~ {days[-1]}" if days else "")
    lines = [" · ".join(x for x in (topic, span, f"기사 {articles}건", f"사건 {len(found)}건") if x)]
    for n, e in enumerate(found, 1):
        day = f"{e.day.month}월 {e.day.day}일" if e.day else "날짜 미상"
        lines.append(f"- {day} — {e.text} [{n}] (기사 {len(e.articles)}건 · {len(e.outlets)}개 언론사)")
    return "\n".join(lines)


_ORDINALS = {"첫": 1, "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
_NTH_EVENT = re.compile(r"(?:(?P<word>첫|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?번째|(?P<n>\d{1,2})\s?번(?:째)?|(?P<first>첫|처음|맨 처음)|"
                        r"(?P<last>마지막|맨 마지막))\s?(?:사건|일|소식|것|거|줄|항목)?")
_EVENT_LINE = re.compile(r"^- (?P<day>.+?) — (?P<text>.+?) \[\d+\]", re.M)


def event_of(question: str, last: Turn) -> str | None:
    r"""A follow-up on an event of the last answer's timeline ("그 중에 두 번째 사건 자세히"):
    that event's line, asked about on its day (the period then finds its articles).

    >>> t = Turn("명태균 정리해줘", "명태균 · 기사 2건 · 사건 2건\n- 10월 9일 — 검찰, 명태균 자택 압수수색 [1] (기사 1건)\n- 11월 15일 — 명태균 구속 [2] (기사 1건)")
    >>> event_of("그 중에 두 번째 사건 자세히", t), event_of("마지막 거 더 알려줘", t), event_of("왜 구속됐어?", t)
    ('11월 15일 명태균 구속', '11월 15일 명태균 구속', None)
    """
    lines = [(m["day"] + " " if m["day"] != "날짜 미상" else "") + m["text"] for m in _EVENT_LINE.finditer(last.answer)]
    m = _NTH_EVENT.search(question)
    if not lines or not m:
        return None
    n = len(lines) if m["last"] else 1 if m["first"] else int(m["n"]) if m["n"] else _ORDINALS[m["word"]]
    return lines[n - 1] if 1 <= n <= len(lines) else None


def story_scope(question: str, scope: Scope, reference: date) -> tuple[str, Scope, Period | None]:
    """The topic, the scope searched (the period's window) and the period a story question names."""
    asked = parse(question, None, reference)
    period = asked.period
    topic = topic_of(asked.topic)
    if period is None:
        return topic, scope, None
    start, end = period.window()
    since = max(d for d in (scope.since, start) if d)
    until = min(d for d in (scope.until, end) if d)
    narrowed = Scope(since=since, until=until, outlets=scope.outlets, reference=reference, about=period)
    return topic, narrowed, period

