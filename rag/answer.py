"""The answer stage: values -> choose -> compose. The code says the answer; the model chooses.

- values (extract.py): every span of the best evidence sentences that gives what is asked, ranked;
- checks: a value whose sentence is about another subject or year, says the opposite of what
  is asked, or only names the article's outlet is dropped (the checks that once judged the
  model's sentences now judge the values before anyone says them);
- choose (choose.py): the model picks one of the best few, or none; the code picks when sure;
- compose (compose.py): the first sentence states the value in the question's words, the
  sentence it came from follows, quoted; both cite it.

A question none of whose values survive, or whose chosen value is weak, is refused: a wrong
answer with a citation costs more trust than a refusal. What this replaced (README, "Quality"):
the model writing the answer from the evidence sentences, and everything that checked what it
wrote (citation alignment of each reply sentence, "gives what was asked", the distractor and
loop checks, the extractive fallback).
"""
from __future__ import annotations

import collections.abc
from dataclasses import dataclass

from . import dates
from .asked import Asked
from .choose import Choice, choose
from .compose import answer_text, citation
from .config import Settings
from .extract import Value, speaks_of, values
from .generate import Generator
from .korean import key, tokens
from .subject import WINDOW_BEFORE, changed_subject, hangul_names, names_none_of, other_year
from .types import Citation, Evidence

Shown = collections.abc.Generator[str, None, "Said"]


@dataclass(frozen=True)
class Said:
    """An answer's text and citation, or why it was refused; the value it states and who chose it."""

    text: str = ""
    citations: tuple[Citation, ...] = ()
    refusal: str | None = None
    value: str | None = None
    chosen_by: str | None = None  # "code" or "model"


def say(generator: Generator | None, settings: Settings, asked: Asked, evidence: list[Evidence],
        on_piece: collections.abc.Callable[[], None] = lambda: None) -> Shown:
    """The answer to the question from the evidence, or a refusal; streamed as one piece (the
    model writes nothing that could be shown while it works: heartbeats pass)."""
    found = as_of_now(asked, [v for v in values(asked, evidence) if unfit(asked, v, settings) is None])
    if not found:
        return Said(refusal="not-asked")  # no span of the asked kind in the evidence
    if found[0].score < settings.min_value:
        return Said(refusal="weak")
    choice: Choice = yield from choose(generator, asked, found, settings)
    if choice.value is None:
        return Said(refusal="model")
    text = answer_text(asked, choice.value)
    on_piece()
    yield text
    return Said(text, (citation(choice.value.evidence),), value=choice.value.text, chosen_by=choice.by)


def as_of_now(asked: Asked, found: list[Value]) -> list[Value]:
    """A figure asked without a period is asked as of now, and a later report updates an earlier
    one (코스피 2550 on the 24th, not 2600 on the 2nd): the values of articles older than the best
    value's are not offered. The model, shown sentences without their days, took the older one."""
    newest = dates.day(found[0].evidence.article.date) if found else None
    if newest is None or asked.period is not None or asked.kind is None or asked.kind.frame != "value":
        return found
    return [v for v in found if (dates.day(v.evidence.article.date) or newest) >= newest]


def unfit(asked: Asked, v: Value, settings: Settings) -> str | None:
    """Why the value may not answer (None: it may).

    Its sentence must be about what was asked: not another subject's fact ("엑스AI의 기업 가치는
    …" for 오픈AI; "오픈AI의 창립자인 샘 올트먼" for 딥시크's founder), not another year ("올해" for
    "작년"), not in an article naming none of the question's names, not saying the opposite of the
    question's predicate ("오라클은 2% 올랐다" for how much it fell), not a sentence that shares no
    word with the question and ranks low; and the value is not the article's outlet or reporter."""
    e = v.evidence
    before = "" if e.headline else e.article.text[max(0, e.start - WINDOW_BEFORE) : e.start]
    explains = asked.kind_name == "cause" or asked.kind is None
    if changed_subject(f"{v.text}입니다.", e.text, before, set(asked.subjects), explains):
        return "other-subject"
    if other_year(asked.text, e.text) or names_none_of(hangul_names(asked.text), f"{e.article.title} {e.article.text}"):
        return "other-subject"
    if asked.opposite(e.text):
        return "opposite"
    if e.share == 0 and e.score < settings.min_relevance:
        return "off-topic"
    if any(key(v.text) in key(x) for x in (e.article.outlet, e.article.author) if x):
        return "byline"
    if asked.kind is None and set(tokens(v.text)) <= set(asked.words):
        return "restates"  # a headline that only says the question back ("명태균 검찰 출석" asked in detail)
    if asked.kind is not None and asked.kind.frame in ("value", "name") and not speaks_of(asked.focus, e, whole=True):
        return "other-detail"  # "1만3000원" from an article on the festival's food, for its entrance fee
    return None
