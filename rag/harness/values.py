"""The values measured without the model: part of `rag eval FILE.jsonl --evidence`.

For each question the values of its evidence (extract.py, after the answer stage's checks) are
ranked by the code, and scored: value@1 (the best value is in a gold article and holds every
keyword group: what the answer's first sentence would state if the model agreed with the code),
value@3 (one of the options the model is shown does), answered (the best value is not refused
as weak), precision (of those answered, how many are right), refused (of the unanswerable), and
said-when-top (of the questions whose best evidence sentence holds the answer, how many values
are right at 1: the measure of *saying* apart from *finding*).

With `fit`, `extract.WEIGHTS` and `BIAS` are fit on the tune half: a softmax over each
question's values (the right ones first), then the bias that turns the best value's score into
the probability that it answers, over every tune question (the unanswerable included: their
best value never answers).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from ..answer import unfit
from ..choose import options
from ..config import Settings
from ..extract import BIAS, FEATURES, SENTENCES, WEIGHTS, Value, features, ranked, spans
from .corpora import where
from .questions import RealQuestion, mentions


@dataclass
class ValueRecord:
    question: RealQuestion
    found: list[Value]
    x: np.ndarray
    top_holds: bool  # the best evidence sentence is in a gold article and holds the answer

    def labels(self) -> np.ndarray:
        return np.array([right(self.question, v) for v in self.found], dtype=np.float64)


def right(q: RealQuestion, v: Value) -> bool:
    """The value is in a gold article and holds every keyword group."""
    return q.answerable and where(v.evidence.article) in q.gold and all(any(mentions(v.text, k) for k in g) for g in q.keywords)


def value_record(q: RealQuestion, found, settings: Settings) -> ValueRecord:
    """`found` is what Pipeline.find gave for the question."""
    evidence = found.evidence[:SENTENCES]
    vals = [v for e in evidence for v in spans(found.asked, e)] if found.related else []
    vals = [v for v in vals if unfit(found.asked, v, settings) is None]
    x = features(found.asked, vals, evidence) if vals else np.zeros((0, len(FEATURES)), dtype=np.float32)
    top = found.evidence[0] if found.evidence else None
    holds = top is not None and where(top.article) in q.gold and q.answerable and all(
        any(mentions(top.text, k) for k in g) for g in q.keywords)
    return ValueRecord(q, vals, x, holds)


def value_scores(records: list[ValueRecord], settings: Settings, weights: dict[str, float] = WEIGHTS, bias: float = BIAS) -> dict:
    """Per kind and overall, the code's best value (no model)."""
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        best = options(ranked(r.found, r.x, weights, bias), 3) if r.found else []
        answered = bool(best) and best[0].score >= settings.min_value
        c = by_kind[r.question.kind]
        c["n"] += 1
        if not r.question.answerable:
            c["refused"] += not answered
            continue
        c["answerable"] += 1
        c["answered"] += answered
        c["@1"] += answered and right(r.question, best[0])
        c["@3"] += any(right(r.question, v) for v in best)
        c["top_holds"] += r.top_holds
        c["said_when_top"] += r.top_holds and answered and right(r.question, best[0])
    total = sum(by_kind.values(), Counter())
    return {"all": _rates(total), "kinds": {k: _rates(c) for k, c in sorted(by_kind.items())}}


def _rates(c: Counter) -> dict:
    def share(a: str, b: str) -> float | None:
        return round(c[a] / c[b], 4) if c[b] else None
    return {"n": c["n"], "value@1": share("@1", "answerable"), "value@3": share("@3", "answerable"),
            "answered": share("answered", "answerable"), "precision": share("@1", "answered"),
            "said_when_top": share("said_when_top", "top_holds"),
            "refused_absent": round(c["refused"] / (c["n"] - c["answerable"]), 4) if c["n"] > c["answerable"] else None}


def listwise_weights(lists: list[tuple[np.ndarray, np.ndarray]], n: int, l2: float):
    """The weights that put each list's right rows first (a softmax over each list's scores, the
    lists weighing alike, L2-regularized): shared by the evidence and the value fits."""
    from scipy.optimize import minimize

    def listwise(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = 0.5 * l2 * w @ w, l2 * w
        for x, y in lists:
            z = x @ w
            p = np.exp(z - z.max())
            loss += (np.log(p.sum()) - np.log((p * y).sum())) / len(lists)
            p /= p.sum()
            grad = grad + x.T @ (p - p * y / (p * y).sum()) / len(lists)
        return loss, grad

    return minimize(listwise, np.zeros(n), jac=True, method="L-BFGS-B").x


def fit_values(records: list[ValueRecord], l2: float = 0.01) -> tuple[dict[str, float], float]:
    """WEIGHTS (listwise, over the tune questions with a right value) and BIAS (calibrating the
    best value's score over every tune question)."""
    from scipy.optimize import minimize

    lists = [(r.x.astype(np.float64), r.labels()) for r in records if r.found and r.labels().any()]

    w = listwise_weights(lists, len(FEATURES), l2)
    tops = [(float(z.max()), float(r.labels()[int(z.argmax())])) for r in records if r.found for z in [r.x @ w]]
    z, y = np.array([t[0] for t in tops]), np.array([t[1] for t in tops])

    def logistic(ab: np.ndarray) -> float:
        p = np.clip(1 / (1 + np.exp(-(ab[0] * z + ab[1]))), 1e-9, 1 - 1e-9)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    a, b = minimize(logistic, np.array([1.0, 0.0]), method="Nelder-Mead").x
    return {f: round(float(v * a), 3) for f, v in zip(FEATURES, w)}, round(float(b), 3)
