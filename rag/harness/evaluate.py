"""The evaluation harness: retrieval and answer quality on a SQuAD/KorQuAD-format file.

The paragraphs are indexed as articles into their own index folder (never the user's),
questions are sampled with a seed, and the pipeline is scored as a person would use it:
- retrieval: R@1/5/10 and MRR of the gold paragraph, for dense, BM25 and hybrid;
- answers: gold-span containment (in the answer, and in its first sentence), citation
  precision, false refusals, Korean-only rate;
- unanswerable: questions asked with their gold paragraph removed; the refusal rate.
Greedy decoding makes a run with the same seed repeatable.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import Config
from ..embed import Embedder
from ..errors import ConfigError
from ..stores.folder import copy_index
from ..ingest import make_article
from ..korean import tokens
from ..load import load_embedder, load_generator
from ..pipeline import Pipeline
from ..retrieve import fused_hits, search_both
from ..stores.base import Store
from ..types import Answer
from .eval_index import build_index

log = logging.getLogger(__name__)
MODES = {"dense": 1.0, "bm25": 0.0}  # dense_weight giving each retriever alone
KS = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]
    gold: str  # article id of the gold paragraph


@dataclass
class Corpus:
    articles: list  # Article
    questions: list[Question]
    fingerprint: str


def load_squad(path: Path, max_paragraphs: int | None = None) -> Corpus:
    """Paragraphs become articles (titled by their page); questions point at their paragraph."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    articles, questions, seen = [], [], set()
    for doc in raw["data"]:
        for i, para in enumerate(doc["paragraphs"]):
            if max_paragraphs is not None and len(articles) >= max_paragraphs:
                break
            article = make_article(para["context"], f"{Path(path).name}#{doc['title']}/{i}", title=doc["title"])
            if article.id in seen:
                continue
            seen.add(article.id)
            articles.append(article)
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(str(qa["id"]), qa["question"], answers, article.id))
    digest = hashlib.sha256("".join(a.id for a in articles).encode()).hexdigest()[:12]
    return Corpus(articles, questions, digest)


def sample(questions: list[Question], n: int, seed: int) -> list[Question]:
    rng = random.Random(seed)
    return rng.sample(questions, min(n, len(questions)))


def retrieval_scores(index: Store, embedder: Embedder, questions: list[Question], config: Config) -> dict:
    """R@k and MRR of the gold paragraph per retriever, ranked by article; on a store whose
    dense search is approximate (HNSW), also its recall of the exact search's candidates."""
    s = config.settings
    weights = {**MODES, "hybrid": s.dense_weight}
    ranks: dict[str, list[int | None]] = {m: [] for m in weights}
    found = wanted = 0
    for q in questions:
        dense, sparse = search_both(index, embedder, q.text, tokens(q.text), s.candidates)  # once; fused per mode
        for mode, weight in weights.items():
            hits = fused_hits(index, dense, sparse, weight, s.candidates)
            ranked = list(dict.fromkeys(h.article.id for h in hits))
            ranks[mode].append(ranked.index(q.gold) + 1 if q.gold in ranked else None)
        if index.approximate:
            exact = index.nearest(embedder.embed_query(q.text), s.candidates, exact=True)
            found, wanted = found + len(exact.keys() & dense.keys()), wanted + len(exact)
    scores = {mode: _rank_metrics(r) for mode, r in ranks.items()}
    if index.approximate:
        scores["dense_recall_vs_exact"] = round(found / max(wanted, 1), 4)
    return scores


def _rank_metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    out = {f"R@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 4) for k in KS}
    out["MRR"] = round(sum(1 / r for r in ranks if r) / n, 4)
    return out


@dataclass
class AnswerRecord:
    question: str
    gold: tuple[str, ...]
    answer: str
    refused: bool
    contains: bool
    first_contains: bool  # in the first sentence: the answer a reader takes
    exact: bool  # the answer's core (the value it states) is a gold span
    citations: int
    citations_gold: int
    korean: bool
    seconds: float
    quotes: list[str] = field(default_factory=list)
    refusal: str | None = None  # why it was refused (Answer.refusal)


def answer_scores(pipeline: Pipeline, questions: list[Question], on_record: Callable | None = None) -> tuple[dict, list]:
    records = []
    for q in questions:
        t = time.perf_counter()
        answer = pipeline.ask(q.text).answer
        rec = AnswerRecord(
            question=q.text,
            gold=q.answers,
            answer=answer.text,
            refused=answer.refused,
            contains=contains(answer, q.answers),
            first_contains=contains(answer, q.answers, first_sentence(answer.text)),
            exact=exact(answer, q.answers),
            citations=len(answer.citations),
            citations_gold=sum(1 for c in answer.citations if c.article.id == q.gold),
            korean=is_korean(answer, q.text),
            seconds=round(time.perf_counter() - t, 2),
            quotes=[c.quote for c in answer.citations],
            refusal=answer.refusal,
        )
        records.append(rec)
        if on_record:
            on_record(rec)
    n = len(records) or 1
    cited = sum(r.citations for r in records)
    return {
        "containment": round(sum(r.contains for r in records) / n, 4),
        "first_sentence_containment": round(sum(r.first_contains for r in records) / n, 4),
        "exact_match": round(sum(r.exact for r in records) / n, 4),
        "citation_precision": round(sum(r.citations_gold for r in records) / cited, 4) if cited else None,
        "false_refusal": round(sum(r.refused for r in records) / n, 4),
        "korean_only": round(sum(r.korean for r in records) / n, 4),
        "seconds_mean": round(sum(r.seconds for r in records) / n, 2),
    }, records


def refusal_scores(pipeline: Pipeline, questions: list[Question]) -> tuple[dict, list]:
    records = [(q.text, pipeline.ask(q.text).answer) for q in questions]
    n = len(records) or 1
    return {"refusal": round(sum(a.refused for _, a in records) / n, 4)}, [
        {"question": t, "answer": a.text, "refused": a.refused, "refusal": a.refusal,
         "similarity": round(max((h.similarity or 0.0 for h in a.hits), default=0.0), 3)} for t, a in records
    ]


def contains(answer: Answer, golds: tuple[str, ...], text: str | None = None) -> bool:
    """A gold span is in the (given part of the) answer, which is not a refusal."""
    text = answer.text if text is None else text
    return not answer.refused and any(normalize(g) in normalize(text) for g in golds if g)


def exact(answer: Answer, golds: tuple[str, ...]) -> bool:
    """The answer's core is a gold span (SQuAD's exact match, on normalized text): the value it
    states, or its first sentence without its ending ("화웨이입니다 [1]." is "화웨이").

    >>> exact(Answer("q", "화웨이입니다 [1].", False), ("화웨이",)), exact(Answer("q", "1위는 화웨이입니다 [1].", False), ("화웨이",))
    (True, False)
    """
    return not answer.refused and normalize(core(answer)) in {normalize(g) for g in golds if g}


def core(answer: Answer) -> str:
    if answer.value:
        return answer.value
    return re.sub(r"(?:입니다|이었습니다|였습니다|이다|였다|이었다)?[.!?。]*$", "", first_sentence(answer.text).strip())


def first_sentence(text: str) -> str:
    """The answer up to its first citation marker.

    A long answer can hold the gold span in a later sentence after a wrong first one
    ("조준입니다 [1]. … 정도전을 해임하고 …"); this part is what a reader takes as the answer.

    >>> first_sentence("화웨이입니다 [1]. 애플은 3위로 밀렸습니다 [1].")
    '화웨이입니다 '
    """
    return re.split(r"\[\d+\]", text, maxsplit=1)[0]


def normalize(text: str) -> str:
    """Lowercase, without spaces and punctuation, for span containment.

    >>> normalize("1,300억 원.") == normalize("1300억원")
    True
    """
    return re.sub(r"[\s\W_]+", "", text.lower())


def is_korean(answer: Answer, question: str) -> bool:
    """An answer whose letters are Hangul, apart from names taken from the question or sources.

    An answer of numbers only ("95.4% [1]") has no letters of another language: it counts.
    """
    if answer.refused:
        return True
    allowed = (question + " ".join(h.chunk.text for h in answer.hits)).lower()
    stray = [w for w in re.findall(r"[A-Za-z]{3,}", answer.text) if w.lower() not in allowed]
    letters = re.findall(r"[^\W\d_]", answer.text)
    return not stray and (not letters or bool(re.search(r"[가-힣]", answer.text)))


def run_eval(
    config: Config,
    path: Path,
    n: int,
    seed: int,
    answers: int = 0,
    unanswerable: int = 0,
    max_paragraphs: int | None = None,
    eval_dir: Path | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict:
    """The whole evaluation; returns the report (every number, the settings, models and seed)."""
    if unanswerable and config.store is not None:
        raise ConfigError("--unanswerable needs a copy of the index without some articles: run it on the folder store "
                          "(without --store).")
    embedder = load_embedder(config, progress)
    corpus = load_squad(path, max_paragraphs)
    folder = eval_dir or config.cache_dir / "eval" / corpus.fingerprint
    progress(f"평가 색인 / evaluation index: {len(corpus.articles)} paragraphs → {folder}")
    index = build_index(corpus, folder, embedder, config,
                        lambda stage, done, total: progress(f"  {stage} {done}/{total}"))
    questions = sample(corpus.questions, n, seed)
    report = {
        "store": config.store.url if config.store else "folder",
        "file": str(path), "seed": seed, "questions": len(questions), "paragraphs": len(corpus.articles),
        "models": {"llm": config.llm.name, "embedder": config.embedder.name},
        "settings": asdict(config.settings),
        "retrieval": retrieval_scores(index, embedder, questions, config),
    }
    if answers or unanswerable:
        generator = load_generator(config, progress)
    if answers:
        asked = [q for q in questions if q.answers][:answers]
        scores, records = answer_scores(Pipeline(config, index, embedder, generator), asked,
                                        lambda r: progress(f"  {'✓' if r.contains else '✗'} {r.question} → {r.answer[:60]}"))
        report["answers"] = {"n": len(asked), **scores}
        report["answer_records"] = [asdict(r) for r in records]
    if unanswerable:
        picked = random.Random(seed + 1).sample(corpus.questions, min(unanswerable, len(corpus.questions)))
        reduced = copy_index(index, Path(str(folder) + "-without"), drop={q.gold for q in picked})
        scores, records = refusal_scores(Pipeline(config, reduced, embedder, generator), picked)
        report["unanswerable"] = {"n": len(picked), **scores}
        report["unanswerable_records"] = records
    return report


def format_report(report: dict) -> str:
    """The report as the lines `rag eval` prints."""
    lines = [f"{report['file']} · {report['questions']} questions (seed {report['seed']}) · "
             f"{report['paragraphs']} paragraphs · {report['models']['llm']} / {report['models']['embedder']} · "
             f"store {report.get('store', 'folder')}",
             "", f"{'retrieval':10} {'R@1':>7} {'R@5':>7} {'R@10':>7} {'MRR':>7}"]
    for mode, m in report["retrieval"].items():
        if mode == "dense_recall_vs_exact":
            lines.append(f"HNSW recall of the exact dense candidates: {m:.3f}")
            continue
        lines.append(f"{mode:10} {m['R@1']:7.3f} {m['R@5']:7.3f} {m['R@10']:7.3f} {m['MRR']:7.3f}")
    if "answers" in report:
        a = report["answers"]
        lines += ["", f"answers ({a['n']}): exact match {a.get('exact_match', 0):.1%} · containment {a['containment']:.1%} (first sentence "
                  f"{a['first_sentence_containment']:.1%}) · citation precision "
                  f"{a['citation_precision'] or 0:.1%} · false refusals {a['false_refusal']:.1%} · "
                  f"Korean-only {a['korean_only']:.1%} · {a['seconds_mean']} s/answer"]
    if "unanswerable" in report:
        u = report["unanswerable"]
        lines.append(f"unanswerable ({u['n']}): refused {u['refusal']:.1%}")
    return "\n".join(lines)
