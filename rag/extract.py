"""Values: the spans of the best evidence sentences that give what the question asks.

The evidence stage finds the sentences most likely to answer (evidence.py); a sentence often
holds several spans of the asked kind ("모집인원 1200명인데 지원자 300명뿐"), and a small model
asked to write the answer took the neighbouring one, clipped a figure or retold the story. So
the code takes every span that gives the asked kind (kinds.py): figures with their units, days,
terms and verdicts by pattern; names as Kiwi's proper-noun runs and quoted titles; causes as the
clause that ends in a cause marker; a description as the noun set before the subject's name.
A question that asks for no such kind (what was said or done, how) is answered by a sentence:
the value is the sentence itself.

Each value is ranked by what ties it to the question (`FEATURES`): its sentence's probability,
the question's words right next to it ("지원자 300명" for "몇 명 지원했어?"; a Korean noun comes
before the figure that counts it), the question's predicate near it, the subject named before it,
how many articles give the same value. The model then only chooses among the best few (choose.py).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .asked import MEANING, Asked
from .phrases import STRONG_CAUSE
from .korean import CONTENT_TAGS, key, kiwi
from .subject import WINDOW_BEFORE
from .types import Evidence

SENTENCES = 5  # the best evidence sentences values are taken from (the best one holds it for 2 of 3 questions)


@dataclass(frozen=True)
class Value:
    """A span of an evidence sentence that may be the answer; `start`/`end` are offsets in
    `evidence.text` (the sentence, or the headline); `score` the code's estimate that it answers."""

    text: str
    evidence: Evidence
    start: int
    end: int
    score: float = 0.0
    features: tuple[float, ...] = ()


FEATURES = ("sentence", "best", "rank", "before", "after", "near", "predicate", "subject", "subject_before", "agree", "headline",
            "first", "unit", "long", "time", "past", "strong", "focus")
WEIGHTS = {"sentence": 0.858, "best": 1.542, "rank": 1.874, "before": 0.925, "after": 0.256, "near": 0.395,
           "predicate": 0.351, "subject": -0.322, "subject_before": 0.27, "agree": 0.338, "headline": 0.73,
           "first": -0.024, "unit": 1.401, "long": 1.228, "time": 1.354, "past": -0.192, "strong": 2.168, "focus": 1.0}
BIAS = -5.174


def values(asked: Asked, evidence: Sequence[Evidence], weights: dict[str, float] = WEIGHTS, bias: float = BIAS) -> list[Value]:
    """The values of the best evidence sentences, most likely first."""
    found = [v for e in evidence[:SENTENCES] for v in spans(asked, e)]
    if not found:
        return []
    x = features(asked, found, evidence[:SENTENCES])
    return ranked(found, x, weights, bias)


def ranked(found: list[Value], x: np.ndarray, weights: dict[str, float] = WEIGHTS, bias: float = BIAS) -> list[Value]:
    z = x @ np.array([weights[f] for f in FEATURES], dtype=np.float32) + bias
    out = [replace(v, score=1.0 / (1.0 + math.exp(-float(s))), features=tuple(map(float, row))) for v, s, row in zip(found, z, x)]
    return sorted(out, key=lambda v: -v.score)


def spans(asked: Asked, e: Evidence) -> list[Value]:
    """Every span of the sentence giving what is asked, but none the question itself holds."""
    text = e.text
    frame = asked.kind.frame if asked.kind else "sentence"
    spans = [(0, len(text))] if frame == "sentence" else asked.answers_in(text)
    if not spans and asked.kind_name == "describe":  # not named before the subject: the sentence describes it
        spans = [(0, len(text))]
    out = []
    for start, end in spans:
        value = text[start:end].strip(" ,.'\"‘’“”")
        if value:
            start = text.find(value, start)
            out.append(Value(value, e, start, start + len(value)))
    return out




def features(asked: Asked, found: list[Value], evidence: Sequence[Evidence]) -> np.ndarray:
    """One row of FEATURES per value."""
    best = max((e.score for e in evidence), default=1.0) or 1.0
    at = {(e.article.id, e.start, e.headline): n for n, e in enumerate(evidence)}
    agree: dict[str, set[str]] = {}
    for v in found:
        agree.setdefault(key(v.text), set()).add(v.evidence.article.id)
    firsts = {}
    for v in found:
        firsts.setdefault((id(v.evidence), v.evidence.start, v.evidence.headline), v.start)
    rows = []
    for v in found:
        e = v.evidence
        before, after, near, pred = _ties(asked, e.text, v.start, v.end)
        around = e.text[max(0, v.start - 25) : v.end + 15]
        rows.append((
            e.score,  # sentence: its probability of answering
            e.score / best,  # best: relative to the best sentence
            1.0 / (1 + at.get((e.article.id, e.start, e.headline), 9)),  # rank of its sentence
            before, after, near, pred,
            float(bool(asked.subjects) and any(s in key(e.text[: v.start] + (e.article.title if not e.headline else "")) for s in asked.subjects)),
            # subject_before: the question's subject right before it ("일본(439만1793명)", "KIA는 … 52억원")
            float(any(s in key(e.text[max(0, v.start - 14) : v.start]) for s in asked.subjects)),
            min(len(agree[key(v.text)]) - 1, 2) / 2,  # agree: other articles give it too
            float(e.headline),
            float(firsts[(id(e), e.start, e.headline)] == v.start),  # first: the sentence's first value
            _unit(asked, v.text),
            float(len(v.text) > 30),
            _time(asked.text, around),
            float(bool(_PAST.search(around)) and not _PAST.search(asked.text)),  # past: "2008년 … 386만명" for a question about now
            float(asked.kind_name == "cause" and bool(STRONG_CAUSE.search(v.text[-12:]))),  # strong: a cause said outright
            float(speaks_of(asked.focus, e)),  # focus: its sentence speaks of what is asked about ("입장료")
        ))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))


def speaks_of(focus: str | None, e: Evidence, whole: bool = False) -> bool:
    """The sentence, its headline or the sentences just before it (`whole`: its article) name what
    is asked about (no focus: nothing to check). A long name counts by its first half too
    ("기업가치": "기업 가치는"); punctuation is ignored ("시군구": "시·군·구")."""
    if focus is None:
        return True
    near = e.article.text if whole else "" if e.headline else e.article.text[max(0, e.start - WINDOW_BEFORE) : e.start]
    context = re.sub(r"[\W_]", "", key(e.text + e.article.title + near))
    return focus in context or (len(focus) >= 4 and focus[: len(focus) // 2 + 1] in context)


def _ties(asked: Asked, text: str, start: int, end: int) -> tuple[float, float, float, float]:
    """How closely the question's words hold the value: right before it (the noun a figure
    counts: "지원자 300명"), right after it ("300명이 지원"), anywhere near, and the question's
    predicate (by word or meaning) near it."""
    toks = kiwi().tokenize(text)
    words = {w for w in asked.words if len(w) > 1 or not w.isdigit()}
    before = after = near = pred = 0.0
    for t in toks:
        form = t.form.lower()
        if t.tag.split("-")[0] not in CONTENT_TAGS or t.start >= start and t.end <= end:
            continue
        is_word = form in words or any(len(w) > 1 and (w in form or form in w and len(form) > 1) for w in words)
        is_pred = asked.predicate is not None and (form == asked.predicate or (MEANING.get(form) in asked.meanings and MEANING.get(form)))
        gap = start - t.end if t.end <= start else t.start - end
        closeness = 1.0 / (1 + max(gap, 0) / 6)
        if is_word:
            near = max(near, closeness)
            if t.end <= start and gap <= 8:
                before = max(before, closeness)
            if t.start >= end and gap <= 8:
                after = max(after, closeness)
        if is_pred:
            pred = max(pred, closeness)
    return before, after, near, pred


_YEAR_WORDS = {"작년": "last", "지난해": "last", "전년": "last", "올해": "this", "금년": "this", "내년": "next"}
_PAST = re.compile(r"(?:19|20)\d\d\s?년|\d+\s?년\s?전|지난해|작년|전년")


def _time(question: str, around: str) -> float:
    """The question's year word is next to the value (1), another is (-1), or neither (0)."""
    asked = {_YEAR_WORDS[w] for w in _YEAR_WORDS if w in question}
    said = {_YEAR_WORDS[w] for w in _YEAR_WORDS if w in around}
    if not asked or not said:
        return 0.0
    return 1.0 if asked & said else -1.0


def _unit(asked: Asked, value: str) -> float:
    """The value's unit is the one asked for ("몇 명" → "300명", not "300개")."""
    m = re.search(r"몇\s?([가-힣%]+)", asked.text)
    if not m:
        return 0.0
    unit = m.group(1)[:2]
    return float(unit in value or unit[:1] in value[-2:])
