"""The evidence stage measured without the model: `rag eval FILE.jsonl --evidence`.

For each answerable question of the real-question set, the pipeline finds as it does when
answering (standalone question, period, retrieval within it, evidence), and the chosen
sentences are scored: evidence@1 (the best sentence is in a gold article and holds every
keyword group) and evidence@3 (the gold ones among the three best hold them together). A
follow-up is made standalone by the rules alone (the model's rewrite needs the model).

With `fit`, the evidence model's weights are fit on the tune half by logistic regression
(each candidate labelled as above) and printed, to be put in `evidence.WEIGHTS`; the test
half is only ever measured.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from ..config import Config
from ..evidence import BIAS, FEATURES, SCALE, WEIGHTS, ordered
from ..extract import BIAS as VALUE_BIAS
from ..extract import WEIGHTS as VALUE_WEIGHTS
from ..load import load_embedder
from ..pipeline import Pipeline
from ..question import standalone
from ..types import Evidence, Turn
from .corpora import corpus_index, where
from .questions import RealQuestion, load_questions, mentions
from .values import ValueRecord, fit_values, listwise_weights, value_record, value_scores


@dataclass
class Record:
    """One question's candidates: their features and the keyword groups each holds."""

    question: RealQuestion
    asked: str
    cands: list[Evidence]
    x: np.ndarray
    holds: list[set[int]]

    def ranked(self, weights: dict[str, float] = WEIGHTS, scale: float = SCALE, bias: float = BIAS) -> list[int]:
        """Candidate positions, best first, as `evidence.ordered` ranks them."""
        at = {_place(c): i for i, c in enumerate(self.cands)}
        return [at[_place(e)] for e in ordered(list(self.cands), self.x, weights, scale, bias)]

    def labels(self) -> np.ndarray:
        return np.array([len(h) == len(self.question.keywords) for h in self.holds], dtype=np.float32)


def _place(e: Evidence) -> tuple[str, int, bool]:
    return e.article.id, e.start, e.headline


def label(q: RealQuestion, e: Evidence) -> set[int]:
    """The keyword groups a sentence of a gold article holds (none outside the gold)."""
    if where(e.article) not in q.gold:
        return set()
    return {i for i, group in enumerate(q.keywords) if any(mentions(e.text, k) for k in group)}


def hit_at(r: Record, k: int, order: list[int]) -> bool:
    """The k best sentences, those of gold articles together, hold every keyword group."""
    held = set().union(*(r.holds[i] for i in order[:k]))
    return len(held) == len(r.question.keywords) > 0


def find_records(pipeline: Pipeline, questions: list[RealQuestion]) -> tuple[list[Record], list[ValueRecord]]:
    """Each question's evidence candidates, and its values."""
    records, value_records = [], []
    for q in questions:
        today = date.fromisoformat(q.today) if q.today else None
        question = standalone(q.question, [Turn(h) for h in q.history])
        found = pipeline.find(question, q.question, today=today)
        cands = found.evidence
        x = np.array([e.features for e in cands], dtype=np.float32).reshape(len(cands), len(FEATURES))
        records.append(Record(q, question, cands, x, [label(q, c) for c in cands]))
        value_records.append(value_record(q, found, pipeline.config.settings))
    return records, value_records


def scores(records: list[Record], weights: dict[str, float] = WEIGHTS, scale: float = SCALE, bias: float = BIAS) -> dict:
    """evidence@1 and @3 of the answerable questions, overall and per kind."""
    records = [r for r in records if r.question.answerable]
    orders = {id(r): r.ranked(weights, scale, bias) for r in records}

    def rates(rs: list[Record]) -> dict:
        n = len(rs) or 1
        return {"n": len(rs), "@1": round(sum(hit_at(r, 1, orders[id(r)]) for r in rs) / n, 4),
                "@3": round(sum(hit_at(r, 3, orders[id(r)]) for r in rs) / n, 4)}

    by_kind = defaultdict(list)
    for r in records:
        by_kind[r.question.kind].append(r)
    return {"all": rates(records), "kinds": {k: rates(rs) for k, rs in sorted(by_kind.items())}}


def fit(records: list[Record], l2: float = 0.003) -> tuple[dict, float, float]:
    """Weights that rank each question's right sentences first (a softmax over its candidates,
    questions weighing alike, L2-regularized), then the scale and bias that turn the best
    candidate's score into the probability that it answers (a logistic fit over every question,
    the unanswerable ones included: their best candidate never answers)."""
    from scipy.optimize import minimize

    lists = [(r.x.astype(np.float64), r.labels()) for r in records if r.cands and r.labels().any()]

    w = listwise_weights(lists, len(FEATURES), l2)
    weights = {f: round(float(v), 3) for f, v in zip(FEATURES, w)}
    tops = [(float(r.x[order[0]] @ w), hit_at(r, 1, order)) for r in records if r.cands  # unanswerable: never a hit
            for order in [r.ranked(weights, 1.0, 0.0)]]
    z, y = np.array([t[0] for t in tops]), np.array([t[1] for t in tops], dtype=np.float64)

    def logistic(ab: np.ndarray) -> float:
        p = np.clip(1 / (1 + np.exp(-(ab[0] * z + ab[1]))), 1e-9, 1 - 1e-9)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    a, b = minimize(logistic, np.array([1.0, 0.0]), method="Nelder-Mead").x
    return weights, round(float(a), 3), round(float(b), 3)


def run_evidence(config: Config, path: Path, split: str = "all", corpus: str | None = None, articles_limit: int | None = None,
                 refit: bool = False, progress: Callable[[str], None] = print) -> dict:
    everything = load_questions(path)
    chosen = [q for q in everything if q.kind != "chitchat" and corpus in (None, q.corpus) and (refit or split in ("all", q.split))]
    embedder = load_embedder(config, progress)
    records, value_records, started = [], [], time.perf_counter()
    for name in sorted({q.corpus for q in chosen}):
        index = corpus_index(name, config, everything, embedder, articles_limit)
        pipeline = Pipeline(config, index, embedder, None)
        found = find_records(pipeline, [q for q in chosen if q.corpus == name])
        records += found[0]
        value_records += found[1]
    report = {"file": str(path), "split": split, "corpus": corpus or "all", "seconds": round(time.perf_counter() - started, 1)}
    weights, scale, bias = WEIGHTS, SCALE, BIAS
    value_weights, value_bias = VALUE_WEIGHTS, VALUE_BIAS
    if refit:
        weights, scale, bias = fit([r for r in records if r.question.split == "tune"])
        report["fit"] = {"weights": weights, "scale": scale, "bias": bias}
        records = [r for r in records if split in ("all", r.question.split)]
        value_weights, value_bias = fit_values([r for r in value_records if r.question.split == "tune"])
        report["fit_values"] = {"weights": value_weights, "bias": value_bias}
        value_records = [r for r in value_records if split in ("all", r.question.split)]
    report["scores"] = scores(records, weights, scale, bias)
    report["values"] = value_scores(value_records, config.settings, value_weights, value_bias)
    report["records"] = []
    for r in records:
        order = r.ranked(weights, scale, bias)
        top = ordered(list(r.cands), r.x, weights, scale, bias)[:3]
        report["records"].append({"id": r.question.id, "kind": r.question.kind, "answerable": r.question.answerable, "asked": r.asked,
                                  "@1": hit_at(r, 1, order), "@3": hit_at(r, 3, order),
                                  "top": [(round(e.score, 3), e.text[:90]) for e in top]})
    return report


def format_evidence(report: dict) -> str:
    s = report["scores"]
    lines = [f"{report['file']} · evidence · split {report['split']} · corpus {report['corpus']} · {report['seconds']} s",
             "", f"{'kind':14} {'n':>4} {'@1':>7} {'@3':>7}"]
    for kind, m in [*s["kinds"].items(), ("all", s["all"])]:
        lines.append(f"{kind:14} {m['n']:4} {m['@1']:7.0%} {m['@3']:7.0%}")
    v = report["values"]
    pct = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731
    lines += ["", "values, the code's best (no model):", f"{'kind':14} {'n':>4} {'@1':>6} {'@3':>6} {'answered':>9} {'precision':>10} "
              f"{'said|top':>9} {'refused':>8}"]
    for kind, m in [*v["kinds"].items(), ("all", v["all"])]:
        lines.append(f"{kind:14} {m['n']:4} {pct(m['value@1']):>6} {pct(m['value@3']):>6} {pct(m['answered']):>9} "
                     f"{pct(m['precision']):>10} {pct(m['said_when_top']):>9} {pct(m['refused_absent']):>8}")
    if "fit" in report:
        lines += ["", f"fit on tune: {report['fit']}", f"values fit on tune: {report['fit_values']}"]
    return "\n".join(lines)
