"""The answer flow: small talk? -> Korean question -> standalone question -> parse -> retrieve ->
evidence -> gate -> values -> choose -> compose.

`Pipeline.ask` returns a Reply: iterate it for the text as the model writes it, then read
`reply.answer` for the finished Answer, whose text holds only checked, renumbered citations.
Loading models and the index is `load.py`'s job; question cleaning and follow-ups are
`question.py`'s.
"""
from __future__ import annotations

import collections.abc
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from .answer import Said, say
from .asked import Asked, parse
from .background import Background, Progress
from .config import Config
from .embed import Embedder
from .evidence import rank
from .generate import Generator
from .ingest import read_paths
from .korean import tokens
from .period import Period
from .prompt import NONE, REFUSAL, choice_messages
from .question import check_question, standalone_steps
from .retrieve import retrieve
from .kinds import kind_of
from .small_talk import small_talk
from .timeline import asks_story, events, story, story_scope, timeline_text, within
from .translate import BRACKETED, korean_steps, respell
from .stores.base import IndexResult, Store
from .types import Answer, Evidence, Hit, Scope, Turn

log = logging.getLogger(__name__)
INLINE_CHUNKS = 16  # an upload this small is embedded before add_files returns (seconds)
Steps = collections.abc.Generator[str, None, Answer]  # text pieces, then the Answer


class Reply:
    """An answer on its way: iterating yields text pieces as they are generated; `answer` is
    the finished Answer (reading it first runs the rest of the generation)."""

    def __init__(self, steps: Steps):
        self._steps = steps
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self._answer is None:
            self._answer = yield from self._steps

    @property
    def answer(self) -> Answer:
        for _ in self:
            pass
        return self._answer


class Clock:
    """Seconds spent per stage of one answer, and when its first piece of text came."""

    def __init__(self):
        self.start = self._last = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.first_piece: float | None = None

    def lap(self, stage: str) -> None:
        """Charge the time since the last lap to `stage`."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now

    def piece(self) -> None:
        self.first_piece = self.first_piece or time.perf_counter()

    def timings(self) -> dict[str, float]:
        end = time.perf_counter()
        out = {**self.seconds, "first_token": (self.first_piece or end) - self.start, "total": end - self.start}
        return {k: round(v, 3) for k, v in out.items()}


@dataclass(frozen=True)
class Found:
    """What a search found, without the model: the parsed question (its period and content words),
    the hits, the evidence (their sentences most likely to answer, best first), whether a sentence
    holds most of the question's words (`held`), whether anything found is about the question
    at all (`related`: held, or a hit similar to it), and a notice for the person."""

    asked: Asked
    hits: list[Hit]
    evidence: list[Evidence]
    held: bool
    related: bool
    notice: str | None


@dataclass
class Pipeline:
    config: Config
    index: Store  # the folder's reader.Index or a PostgreSQL store: only the Store interface is used
    embedder: Embedder
    generator: Generator | None  # None: no language model (a timeline, the harness without it)

    def __post_init__(self):
        self.background = Background(lambda progress, stop: self.index.embed_pending(self.embedder, progress, stop))

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None, scope: Scope = Scope(), today: date | None = None,
            timeline: bool | None = None) -> Reply:
        """Answer a question; `history` holds the conversation's earlier turns (standalone
        question and answer text), oldest first, with which a follow-up is rewritten before
        retrieval. `scope` is what the person narrowed the search to (days, outlets); `today`
        is the day "어제" or "지난주" count from (default: the newest article's day). A story
        ("…정리해줘", "…어떻게 됐어?") gets a timeline, as does any question with `timeline`
        True (False: never). A question that cannot be asked (empty, too long, no words) raises a
        RagError here, before any work."""
        return Reply(self._answered(check_question(question), list(history), top_k, scope, today, timeline))

    def _answered(self, asked: str, history: list[Turn], top_k: int | None, scope: Scope, today: date | None,
                  timeline: bool | None = None) -> Steps:
        """`_answer` on the index as it is now, with background embedding paused meanwhile
        (both want the two cores; a person is waiting for the answer, not for the index)."""
        self.index = self.index.refresh()
        with self.background.paused():
            return (yield from self._answer(asked, history, top_k, scope, today, timeline))

    def _answer(self, asked: str, history: list[Turn], top_k: int | None, scope: Scope, today: date | None,
                timeline: bool | None = None) -> Steps:
        clock = Clock()
        if (chat := small_talk(asked)) is not None:
            clock.piece()
            yield chat
            return Answer(question=asked, text=chat, refused=False, timings=clock.timings())
        korean = self.respelled((yield from korean_steps(asked, self.generator)), asked)
        question = yield from standalone_steps(korean, history, self.generator)
        clock.lap("rewrite")
        if timeline or (timeline is None and asks_story(question) and kind_of(question) is None):
            told = self.story(question, scope, today)
            clock.piece()
            yield told.text
            return replace(told, asked=asked if asked != question else None, timings={**clock.timings(), **told.timings})
        found = self.find(question, asked, top_k, scope, today)
        clock.lap("retrieve")
        said = Said(refusal="unrelated")
        if found.related:
            said = yield from say(self.generator, self.config.settings, found.asked, found.evidence, clock.piece)
            clock.lap("answer")
        return Answer(
            question=question,
            text=REFUSAL if said.refusal else said.text,
            refused=said.refusal is not None,
            citations=said.citations,
            hits=tuple(found.hits),
            timings=clock.timings(),
            asked=asked if asked != question else None,
            refusal=said.refusal,
            period=found.asked.period,
            notice=found.notice,
            evidence=tuple(found.evidence[: self.config.settings.evidence_sentences]),
            value=said.value,
            chosen_by=said.chosen_by,
        )

    def respelled(self, korean: str, asked: str) -> str:
        """The translation's names as the articles found by meaning for the question as asked
        spell them (translate.respell)."""
        if korean == asked or not BRACKETED.search(korean):
            return korean
        hits = retrieve(self.index, self.embedder, asked, [], self.config.settings)
        return respell(korean, " ".join(h.chunk.text for h in hits))

    def find(self, question: str, asked: str | None = None, top_k: int | None = None, scope: Scope = Scope(), today: date | None = None) -> Found:
        """The question's period, hits and evidence (no model is asked): within the period it
        names and the person's scope first; when nothing there is about the question, within the
        scope alone, saying so. `asked` is what the person typed, when `question` is its
        standalone rewrite (the period may be named in either).

        Before the model, only a question nothing found is about is refused (an English or
        paraphrased question shares no words with its article, but is similar to it:
        0.43-0.53 on the real-question set, against 0.28 at most for absent topics).
        """
        s = self.config.settings
        reference = today or self.index.newest or date.today()
        parsed = parse(question, asked, reference)
        period, topic, words = parsed.period, parsed.topic, list(parsed.words)
        wide = replace(scope, reference=reference)
        tries = [(narrowed(wide, period), None)] if period else []
        tries.append((wide, f"{period.label} 기사 중에는 관련 기사가 없어 전체 기간에서 찾았습니다." if period else None))
        for n, (where, notice) in enumerate(tries, 1):
            hits = retrieve(self.index, self.embedder, topic, words, s, top_k, where)
            evidence = rank(parsed, hits, self.embedder)
            held = max((e.share for e in evidence), default=0.0) >= s.min_coverage
            related = held or max((h.similarity or 0.0 for h in hits), default=0.0) >= s.min_similarity
            if related or n == len(tries):
                if not related and scope.narrows:
                    notice = "고른 기간·언론사의 기사 중에는 관련 기사가 없습니다."
                return Found(parsed, hits, evidence, held, related, notice)

    def story(self, question: str, scope: Scope = Scope(), today: date | None = None) -> Answer:
        """The timeline of the story the question asks for (timeline.py), within the period it names
        and the person's scope; no model is asked."""
        reference = today or self.index.newest or date.today()
        topic, where, period = story_scope(question, replace(scope, reference=reference), reference)
        clock = Clock()
        hits = story(self.index, self.embedder, topic, self.config.settings, where)
        clock.lap("retrieve")
        found = within(events(hits), period)
        clock.lap("timeline")  # events and their lines, after retrieval
        timings = {k: round(v, 3) for k, v in clock.seconds.items()}
        if not found:
            return Answer(question=question, text=REFUSAL, refused=True, refusal="unrelated", period=period, timings=timings)
        numbered = tuple(replace(e, citation=replace(e.citation, n=n)) for n, e in enumerate(found, 1))
        text = timeline_text(topic, numbered, period.label if period else None)
        return Answer(question=question, text=text, refused=False, citations=tuple(e.citation for e in numbered),
                      period=period, timeline=numbered, timings=timings)

    def warm(self) -> None:
        """Evaluate the choice prompt's opening (the system prompt and worked examples) before the
        first question, so a chat's first answer does not wait for it (about 500 tokens, 6 s); load
        Kiwi and run the embedder once. Kiwi's loading holds Python's lock for about 3 s, the
        embedder's first call is seconds slower than the next: in a server, a first question
        paying for them stalled every other request (a page connecting timed out on AMD EPYC)."""
        for _ in self.generator.choose(choice_messages("준비", []), ["준비", NONE]):
            pass
        tokens("준비")
        self.embedder.embed_documents(["준비"])
        self.embedder.embed_query("준비")

    def add_files(self, paths: Sequence[Path], progress: Progress | None = None) -> IndexResult:
        """Index more files into this pipeline's index: searchable by keyword when this returns.
        A few new chunks are embedded at once (seconds); more are left to the background
        embedding (`self.background`), and are searchable by meaning as it catches up."""
        result = self.index.update(read_paths(paths), [Path(p) for p in paths], self.config.settings, progress=progress)
        index = result.index
        if 0 < index.pending <= INLINE_CHUNKS and not index.embed_pending(self.embedder).busy:
            index = index.refresh()
        self.index = index  # one assignment: a running answer keeps the index it began with
        if index.pending:
            self.background.start()
        return result


def narrowed(scope: Scope, period: Period | None) -> Scope:
    """The scope within the period's window too (both hold): the period and the lag after it in
    which it is reported (a month's figures early in the next month), or, for a period ahead, the
    days it was announced in; "최근" also asks for the newest first.

    >>> from datetime import date
    >>> p = Period(date(2024, 10, 21), date(2024, 10, 27), "지난주", reference=date(2024, 10, 30), kind="week")
    >>> s = narrowed(Scope(since=date(2024, 10, 25)), p)
    >>> s.since, s.until, s.about == p
    (datetime.date(2024, 10, 25), datetime.date(2024, 10, 30), True)
    """
    if period is None:
        return scope
    start, end = period.window()
    since = max(d for d in (scope.since, start) if d)
    until = min(d for d in (scope.until, end) if d)
    return replace(scope, since=since, until=until, recent=scope.recent or period.recent, about=period)
