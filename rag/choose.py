"""The model's one job in an answer: choose among the values the code found.

A 1.5B model asked to write an answer from sentences clipped figures, took the neighbouring
one, retold the story or refused. Here it is shown the sentences the best values come from
and the question, and its reply is constrained to the values' own texts or "답 없음"
(`Generator.choose`: greedy over the options' tokens in-process, a grammar on a llama.cpp
server): it reads as for an answer, but cannot write a fact. Measured on the tune half of the
real-question set, the model so constrained picked the right figure or name where the code's
ranking had the neighbour first ("일본(439만1793명)" over the sentence's first figure, "88만명"
for 작년), and said "답 없음" for most details the articles lack.

It is asked for figures and names (`FIGURES`, `NAMED` kinds). A cause or a sentence is chosen
by the code's ranking alone: shown long clauses, the model said "답 없음" for most causes the
articles state, and chose a neighbouring clause no better than the code (tune half: 3 of 7
against 4 of 7). When the model says none of them, the question is refused, unless the code is
sure of its best (`choice_sure`).
"""
from __future__ import annotations

import collections.abc
from dataclasses import dataclass

from .asked import Asked
from .config import Settings
from .extract import Value
from .generate import Generator
from .korean import key
from .prompt import NONE, around, choice_messages

Steps = collections.abc.Generator[str, None, "Choice"]


@dataclass(frozen=True)
class Choice:
    """The value chosen (None: none answers), who chose it, and the options shown."""

    value: Value | None
    by: str  # "code" (a cause or sentence, or no model), "model", "none" (the model said none of them)
    options: tuple[Value, ...] = ()


def options(values: list[Value], limit: int) -> list[Value]:
    """The best `limit` values, each text once (the best-scored occurrence)."""
    seen, out = set(), []
    for v in values:
        if (k := key(v.text)) not in seen:
            seen.add(k)
            out.append(v)
        if len(out) == limit:
            break
    return out


def choose(generator: Generator | None, asked: Asked, values: list[Value], settings: Settings) -> Steps:
    """The value to answer with: the model's for a figure or a name, the code's best otherwise."""
    shown = options(values, settings.choices)
    if not shown:
        return Choice(None, "code")
    best = shown[0]
    if generator is None or asked.kind is None or asked.kind.frame not in ("value", "name"):
        return Choice(best, "code", tuple(shown))
    texts = [v.text for v in shown] + [NONE]
    said = yield from generator.choose(choice_messages(asked.text, sentences(shown)), texts)
    if said == len(shown):  # "답 없음"
        return Choice(best, "code", tuple(shown)) if best.score >= settings.choice_sure else Choice(None, "none", tuple(shown))
    return Choice(shown[said], "model", tuple(shown))


def sentences(shown: list[Value]) -> list[str]:
    """The sentences the options come from, each once, in the options' order (long ones cut
    around their values)."""
    out: dict[tuple[str, int, bool], str] = {}
    for v in shown:
        e = v.evidence
        out.setdefault((e.article.id, e.start, e.headline), around(e.text, v.start, v.end))
    return list(out.values())
