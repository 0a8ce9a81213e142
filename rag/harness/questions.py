"""The real-question set: questions as people type them in a chat, scored per kind.

People ask with paraphrases, in English, with typos, "why", follow-ups and small talk (KorQuAD's
questions reuse their paragraph's words). `eval/real-questions.jsonl` holds such questions over
the bundled articles and two months of real news, with the articles that answer each and a few
answer keywords; never article text (`eval/README.md`).

A question is right when:
- answerable: the answer is given (not refused), holds every keyword group, cites a gold
  article, and holds none of the `wrong` strings (another subject's fact);
- not answerable: it is refused, with none of the `wrong` strings;
- small talk (`chitchat`): a short Korean reply with no citation and no refusal sentence.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from ..load import load_embedder, load_generator
from ..pipeline import Pipeline
from ..prompt import REFUSAL
from ..types import Answer, Article, Turn, period_dict
from .corpora import CORPORA, corpus_index, where
from .evaluate import Question, is_korean, retrieval_scores



@dataclass(frozen=True)
class RealQuestion:
    id: str
    corpus: str
    kind: str
    question: str
    history: tuple[str, ...]  # earlier questions of the same chat, oldest first
    gold: tuple[str, ...]  # file:line or url of the articles that answer it
    keywords: tuple[tuple[str, ...], ...]  # every group must be in the answer (any one of its spellings)
    wrong: tuple[str, ...]  # none of these may be in the answer
    answerable: bool
    split: str  # "tune" or "test"
    topic_gold: tuple[str, ...] = ()  # detail-absent questions: the articles on their topic
    today: str | None = None  # dated questions: the day relative words count from ("어제")
    undated: str | None = None  # dated questions: the same question with its time words removed
    same_topic: tuple[str, ...] = ()  # dated questions: the topic's articles on other days (distractors)
    absent: tuple[tuple[str, ...], ...] = ()  # unanswerable: word combinations no article of the corpus holds all of
    after: bool = False  # dated questions whose answer was reported after the period they name

    def asked(self, strip_dates: bool = False) -> str:
        return self.undated if strip_dates and self.undated else self.question


def load_questions(path: Path) -> list[RealQuestion]:
    """The set, checked line by line (an error names the line and what is wrong)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(RealQuestion(
                id=raw["id"], corpus=raw["corpus"], kind=raw["kind"], question=raw["question"],
                history=tuple(raw.get("history", ())), gold=tuple(raw.get("gold", ())),
                keywords=tuple(tuple(group) for group in raw.get("keywords", ())),
                wrong=tuple(raw.get("wrong", ())), answerable=bool(raw["answerable"]), split=raw.get("split", "test"),
                topic_gold=tuple(raw.get("topic_gold", ())), today=raw.get("today"), undated=raw.get("undated"),
                same_topic=tuple(raw.get("same_topic", ())),
                absent=tuple(tuple(words) for words in raw.get("absent", ())), after=bool(raw.get("after")),
            ))
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}:{n}: not a question of the real-question format ({e!r}); see eval/README.md.") from None
        if out[-1].corpus not in CORPORA:
            raise ConfigError(f"{path}:{n}: corpus must be one of {sorted(CORPORA)}, not {out[-1].corpus!r}.")
    return out


def mentions(text: str, keyword: str) -> bool:
    """The keyword is in the text, ignoring case, spaces and thousands commas; a number only
    as a whole number ("30억" is not in "130억").

    >>> mentions("시가총액이 5,930억 달러 줄었다", "5930억달러"), mentions("130억원", "30억")
    (True, False)
    """
    def norm(s: str) -> str:
        return re.sub(r"[\s,]", "", s.lower())

    key = norm(keyword)
    before = r"(?<!\d)(?<!\d\.)" if key[:1].isdigit() else ""  # nor the end of a decimal "1.30억"
    after = r"(?![\d])" if key[-1:].isdigit() else ""
    return bool(key) and re.search(before + re.escape(key) + after, norm(text)) is not None


def check_gold(questions: list[RealQuestion], articles: list[Article]) -> list[str]:
    """What is wrong with the questions' references to a corpus's articles (empty when nothing):
    a gold, topic or same-topic article that is not in it, a keyword group missing from a gold
    article (title or text), or an `absent` word combination that some article holds in full
    (the topic or detail an unanswerable question asks about is covered after all)."""
    by_where = {where(a): a for a in articles}
    problems = []
    for q in questions:
        for ref in (*q.gold, *q.topic_gold, *q.same_topic):
            if ref not in by_where:
                problems.append(f"{q.id}: {ref} is not in the corpus")
        for ref in q.gold:
            if (a := by_where.get(ref)) is not None:
                for group in q.keywords:
                    if not any(mentions(f"{a.title} {a.text}", k) for k in group):
                        problems.append(f"{q.id}: none of {list(group)} in {ref}")
        for words in q.absent:
            held = [where(a) for a in articles if all(mentions(f"{a.title} {a.text}", w) for w in words)]
            if held:
                problems.append(f"{q.id}: {' + '.join(words)} is in {held[0]}" + (f" and {len(held) - 1} more" if held[1:] else ""))
    return problems


def said_wrong(q: RealQuestion, answer: Answer) -> bool:
    return any(mentions(answer.text, w) for w in q.wrong)


def is_right(q: RealQuestion, answer: Answer) -> bool:
    if q.kind == "chitchat":
        return not answer.citations and REFUSAL not in answer.text and is_korean(answer, q.question) and bool(answer.text)
    if not q.answerable:
        return answer.refused and not said_wrong(q, answer)
    found = all(any(mentions(answer.text, k) for k in group) for group in q.keywords)
    cites_gold = any(where(c.article) in q.gold for c in answer.citations)
    return not answer.refused and found and cites_gold and not said_wrong(q, answer)


def top_holds(q: RealQuestion, answer: Answer) -> bool:
    """The best evidence sentence is in a gold article and holds every keyword group."""
    top = answer.evidence[0] if answer.evidence else None
    return (q.answerable and top is not None and where(top.article) in q.gold
            and all(any(mentions(top.text, k) for k in group) for group in q.keywords))


def gold_rank(q: RealQuestion, answer: Answer) -> int | None:
    """Where the first gold article came among the hits (1 = top), None when it did not: tells a
    retrieval miss from an answer-stage loss."""
    ranks = [r for r, h in enumerate(answer.hits, 1) if where(h.article) in q.gold]
    return min(ranks, default=None)


def ask_in_chat(pipeline: Pipeline, q: RealQuestion, strip_dates: bool = False) -> tuple[Answer, list[Turn]]:
    """Ask the question after its history, in one conversation, as the chat page does (on the
    question's reference day, if it has one); return its answer and the turns before it."""
    turns: list[Turn] = []
    today = date.fromisoformat(q.today) if q.today else None
    for earlier in q.history:
        answer = pipeline.ask(earlier, turns, today=today).answer
        turns.append(Turn(answer.question, answer.text))
    return pipeline.ask(q.asked(strip_dates), turns, today=today).answer, turns


def score(records: list[dict]) -> dict:
    """Per kind and overall: right, false refusals, refusals of the unanswerable, wrong
    attributions, Korean-only answers and seconds per answer."""
    def rates(rs: list[dict]) -> dict:
        answerable = [r for r in rs if r["answerable"]]
        absent = [r for r in rs if not r["answerable"] and r["kind"] != "chitchat"]
        return {
            "n": len(rs),
            "right": round(sum(r["right"] for r in rs) / len(rs), 4),
            "false_refusal": round(sum(r["refused"] for r in answerable) / len(answerable), 4) if answerable else None,
            "refused_absent": round(sum(r["refused"] for r in absent) / len(absent), 4) if absent else None,
            "wrong_attribution": sum(r["said_wrong"] for r in rs),
            # of the answers given (not refused), how many were right; of the answerable questions whose
            # best evidence sentence holds the answer, how many were answered right
            "precision": round(sum(r["right"] for r in given) / len(given), 4) if (given := [r for r in rs if not r["refused"] and r["kind"] != "chitchat"]) else None,
            "said_when_top": round(sum(r["right"] for r in top) / len(top), 4) if (top := [r for r in answerable if r.get("top_holds")]) else None,
            # where answerable questions were lost: retrieval (gold not among the hits) or the answer stage
            "gold_retrieved": round(sum(r.get("gold_rank") is not None for r in answerable) / len(answerable), 4) if answerable else None,
            "refusals": dict(Counter(r.get("refusal") for r in answerable if r["refused"])),
            # who chose the value said: the code (sure) or the model (among the best few)
            "chosen_by": dict(Counter(r.get("chosen_by") for r in rs if not r["refused"] and r.get("chosen_by"))),
            "korean_only": round(sum(r["korean"] for r in rs) / len(rs), 4),
            "seconds_mean": round(sum(r["seconds"] for r in rs) / len(rs), 2),
        }

    by_kind = defaultdict(list)
    for r in records:
        by_kind[r["kind"]].append(r)
    answerable = [r for r in records if r["answerable"]]
    return {"all": rates(records), "answerable": rates(answerable) if answerable else None,
            "kinds": {k: rates(rs) for k, rs in sorted(by_kind.items())}}


def run_real(config: Config, path: Path, split: str = "all", corpus: str | None = None, articles_limit: int | None = None,
             progress: Callable[[str], None] = print, strip_dates: bool = False) -> dict:
    """Ask the set and score it; with `strip_dates`, dated questions are asked without their
    time words (`undated`), to show what the date handling buys."""
    everything = load_questions(path)  # every split's gold stays in a sampled corpus, so tune and test see one index
    questions = [q for q in everything if split in ("all", q.split) and corpus in (None, q.corpus)]
    embedder = load_embedder(config, progress)
    generator = load_generator(config, progress)
    records = []
    for name in sorted({q.corpus for q in questions}):
        index = corpus_index(name, config, everything, embedder, articles_limit, progress)
        pipeline = Pipeline(config, index, embedder, generator)
        for q in (q for q in questions if q.corpus == name):
            t = time.perf_counter()
            answer, turns = ask_in_chat(pipeline, q, strip_dates)
            rec = {**asdict(q), "asked": q.asked(strip_dates), "period": period_dict(answer.period), "notice": answer.notice,
                   "answer": answer.text, "refused": answer.refused, "right": is_right(q, answer),
                   "said_wrong": said_wrong(q, answer), "korean": is_korean(answer, q.question),
                   "seconds": round(time.perf_counter() - t, 2), "rewritten": answer.question,
                   "cited": [where(c.article) for c in answer.citations], "refusal": answer.refusal,
                   "gold_rank": gold_rank(q, answer), "top_holds": top_holds(q, answer), "value": answer.value, "chosen_by": answer.chosen_by,
                   "turns": [asdict(t) for t in turns]}
            records.append(rec)
            progress(f"  {'✓' if rec['right'] else '✗'} {q.id} {rec['asked']} → {answer.text[:70]}")
    return {"file": str(path), "split": split, "corpus": corpus or "all", "news_articles": articles_limit if articles_limit is not None else "sample",
            "strip_dates": strip_dates,
            "models": {"llm": config.llm.name, "embedder": config.embedder.name},
            "settings": asdict(config.settings), "scores": score(records), "records": records}


def run_real_retrieval(config: Config, path: Path, corpus: str | None = None, articles_limit: int | None = None,
                       progress: Callable[[str], None] = print) -> dict:
    """R@k of the gold article per retriever, for the answerable questions asked on their own
    (follow-ups need the model's rewrite, so they are left out). No language model is loaded."""
    everything = load_questions(path)
    embedder = load_embedder(config, progress)
    report = {"file": str(path), "news_articles": articles_limit if articles_limit is not None else "sample", "embedder": config.embedder.name,
              "store": config.store.url if config.store else "folder", "retrieval": {}}
    for name in sorted({q.corpus for q in everything if corpus in (None, q.corpus)}):
        index = corpus_index(name, config, everything, embedder, articles_limit)
        ids = {where(a): a.id for a in index.all_articles()}
        asked = [Question(q.id, q.question, (), ids[q.gold[0]]) for q in everything
                 if q.corpus == name and q.answerable and not q.history and q.gold and q.gold[0] in ids]
        report["retrieval"][name] = {"n": len(asked), **retrieval_scores(index, embedder, asked, config)}
    return report


def format_real_retrieval(report: dict) -> str:
    lines = [f"{report['file']} · retrieval of the gold article ({report['embedder']}, store {report.get('store', 'folder')})"]
    for name, r in report["retrieval"].items():
        lines.append(f"{name} ({r['n']} questions): " + " · ".join(
            f"{mode} R@1 {r[mode]['R@1']:.3f} R@5 {r[mode]['R@5']:.3f}" for mode in ("dense", "bm25", "hybrid"))
            + (f" · HNSW recall of exact {r['dense_recall_vs_exact']:.3f}" if "dense_recall_vs_exact" in r else ""))
    return "\n".join(lines)


def format_real(report: dict) -> str:
    s = report["scores"]
    lines = [f"{report['file']} · split {report['split']} · corpus {report['corpus']} · {s['all']['n']} questions",
             "", f"{'kind':14} {'n':>4} {'right':>7} {'precision':>10} {'false ref':>10} {'ref absent':>11} {'said|top':>9} {'wrong':>6} {'s/ans':>6}"]
    rows = [*s["kinds"].items(), ("answerable", s["answerable"]), ("all", s["all"])]
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    for kind, m in rows:
        if not m:
            continue
        lines.append(f"{kind:14} {m['n']:4} {pct(m['right']):>7} {pct(m.get('precision')):>10} {pct(m['false_refusal']):>10} "
                     f"{pct(m['refused_absent']):>11} {pct(m.get('said_when_top')):>9} {m['wrong_attribution']:6} {m['seconds_mean']:6}")
    if a := s["answerable"]:
        lines += ["", f"answerable: gold article among the hits {pct(a['gold_retrieved'])}; refused by "
                  + (", ".join(f"{why} {n}" for why, n in sorted(a["refusals"].items(), key=str)) or "-")]
    every = s["all"]
    lines.append("values chosen by " + (", ".join(f"{by} {n}" for by, n in sorted(every["chosen_by"].items())) or "-"))
    return "\n".join(lines)
