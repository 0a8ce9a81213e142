"""Questions from outside the page: a script's or an API client's request, with the
conversation it follows.

A conversation's earlier turns come in one of two forms, oldest first:
  - an earlier question as text: it is asked again (replayed), so its answer is known exactly
    as the page would know it;
  - an earlier exchange as an object with "question" and "answer": what `rag ask --json`
    printed, or {"role", "content"} pairs from a chat client, taken as they are.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import RagError
from .pipeline import Pipeline, Reply
from .question import check_day, check_question, check_scope
from .types import Scope, Turn

FIELDS = {"question", "history", "since", "until", "source", "today", "timeline"}
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Request:
    """One question to answer, with its conversation and filters (as `POST /api/ask` takes it)."""

    question: str
    history: tuple[str | Turn, ...] = ()
    since: str | None = None
    until: str | None = None
    source: tuple[str, ...] = ()
    today: str | None = None
    timeline: bool | None = None  # True: a timeline of the story; False: never one; None: when the question asks for a story

    @classmethod
    def of(cls, d: object) -> Request:
        """A request from JSON, or a RagError naming what is wrong with it.

        >>> Request.of({"question": "그럼 주가는?", "history": ["딥시크는?"], "source": "한겨레"}).source
        ('한겨레',)
        """
        if not isinstance(d, dict):
            raise RagError('A request must be a JSON object such as {"question": "딥시크는 어떤 회사야?"}.',
                           '요청은 {"question": "…"} 형태의 JSON 객체여야 합니다.')
        if unknown := set(d) - FIELDS:
            raise RagError(f"Unknown field(s) {', '.join(sorted(unknown))}: use {', '.join(sorted(FIELDS))}.",
                           f"알 수 없는 항목: {', '.join(sorted(unknown))}")
        question = d.get("question")
        if not isinstance(question, str):
            raise RagError('"question" must be a string.', '"question"에 질문을 문자열로 넣어 주세요.')
        source = d.get("source") or ()
        source = (source,) if isinstance(source, str) else source
        for name in ("since", "until", "today"):
            if d.get(name) is not None and not isinstance(d[name], str):
                raise RagError(f'"{name}" must be a date string such as "2024-10-01".', f'"{name}"은 "2024-10-01" 같은 날짜 문자열이어야 합니다.')
        if not isinstance(source, list | tuple) or not all(isinstance(s, str) for s in source):
            raise RagError('"source" must be an outlet name or a list of them.', '"source"는 언론사 이름이나 그 목록이어야 합니다.')
        if d.get("timeline") is not None and not isinstance(d["timeline"], bool):
            raise RagError('"timeline" must be true or false.', '"timeline"은 true 또는 false여야 합니다.')
        request = cls(check_question(question), history(d.get("history") or ()), d.get("since"), d.get("until"), tuple(source), d.get("today"),
                      d.get("timeline"))
        request.filters()  # a date that cannot be read is refused at the door, before any waiting
        return request

    def filters(self) -> tuple[Scope, date | None]:
        """The days and outlets searched, and the day relative words count from."""
        return check_scope(self.since, self.until, self.source), check_day(self.today, "기준일", "today")


def history(items: object) -> tuple[str | Turn, ...]:
    """Earlier turns as given in JSON (questions to replay, or exchanges already answered),
    or as Turns already read (a history file, a chat client's messages, the page's conversation).

    >>> history(["딥시크는?", {"question": "딥시크는 어떤 회사야?", "answer": "중국 AI 회사다[1]."}])
    ('딥시크는?', Turn(question='딥시크는 어떤 회사야?', answer='중국 AI 회사다[1].'))
    """
    if not isinstance(items, list | tuple):
        raise RagError('"history" must be a list of earlier questions or {"question", "answer"} objects.',
                       '"history"는 이전 질문들의 목록이어야 합니다.')
    turns: list[str | Turn] = []
    for item in items:
        if isinstance(item, str | Turn):
            turns.append(item)
        elif isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("answer", ""), str):
            turns.append(Turn(item["question"], item.get("answer", "")))
        else:
            raise RagError(f"A history entry must be a question or an object with \"question\" and \"answer\", not {str(item)[:80]!r}.",
                           '"history"의 항목은 질문 문자열이나 {"question", "answer"} 객체여야 합니다.')
    return tuple(turns)


def read_history(path: Path) -> tuple[str | Turn, ...]:
    """The turns in a file of earlier `rag ask --json` outputs (one JSON object after another)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RagError(f"Cannot read the history file {path}: {e}", f"대화 기록 파일을 읽을 수 없습니다: {path}") from None
    decoder, values, pos = json.JSONDecoder(), [], 0
    while (pos := _SPACE.match(text, pos).end()) < len(text):
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise RagError(f"{path}:{e.lineno}: not JSON ({e.msg}); the file should hold what `rag ask --json` printed.",
                           f"{path}:{e.lineno}: JSON이 아닙니다") from None
        values.append(value)
    return history(values)


def read_requests(lines: Iterable[str]) -> Iterator[Request | RagError]:
    """Batch questions: one per line, as text or as a JSON request object; blank lines skipped.
    A line that cannot be a request gives its error in its place, so the others still go on.

    >>> [type(r).__name__ for r in read_requests(["딥시크는?", "", '{"question": ""}', '{"question": "그럼 창업자는?"}'])]
    ['Request', 'RagError', 'Request']
    """
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield Request.of(json.loads(line)) if line.startswith("{") else Request.of({"question": line})
        except json.JSONDecodeError as e:
            yield RagError(f"line {n}: not JSON ({e.msg}).", f"{n}번째 줄이 JSON이 아닙니다.")
        except RagError as e:
            yield RagError(f"line {n}: {e.english}", f"{n}번째 줄: {e.korean}")


def ask(pipeline: Pipeline, request: Request, top_k: int | None = None) -> Reply:
    """Start answering a request: filters checked, earlier questions replayed, then the question asked."""
    scope, today = request.filters()
    return pipeline.ask(request.question, replay(pipeline, request.history, top_k), top_k, scope, today, request.timeline)


def replay(pipeline: Pipeline, items: Iterable[str | Turn], top_k: int | None = None) -> list[Turn]:
    """The conversation's turns, each earlier question given as text answered in turn."""
    turns: list[Turn] = []
    for item in items:
        if isinstance(item, Turn):
            turns.append(item)
        else:
            answer = pipeline.ask(item, turns, top_k).answer
            turns.append(Turn(answer.question, answer.text))
    return turns
