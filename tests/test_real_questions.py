"""Scoring of the real-question set (rag/harness/questions.py) on hand-made answers, and the
set itself (eval/real-questions.jsonl): well-formed, every kind present, both splits."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from rag import dates
from rag.errors import ConfigError
from rag.harness.corpora import CORPORA
from rag.harness.questions import RealQuestion, check_gold, is_right, load_questions, mentions, score
from rag.ingest import make_article, read_paths
from rag.period import find
from rag.prompt import REFUSAL
from rag.split import chunk_article
from rag.types import Answer, Citation

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "eval" / "real-questions.jsonl"
ARTICLE = make_article("엔비디아 시가총액이 5930억달러 줄었다. 브로드컴은 1% 올랐다.", "articles/a.txt", line=3)
KINDS = {"fact", "number", "who", "when", "paraphrase", "why", "english", "typo", "follow-up", "adversarial", "absent-topic",
         "absent-detail", "chitchat", "dated"}
NEWS = ROOT.parent / "shared" / "news"


def question(**kw) -> RealQuestion:
    base = dict(id="x", corpus="bundled", kind="fact", question="엔비디아 시가총액은 얼마나 줄었어?", history=(),
                gold=("articles/a.txt:3",), keywords=(("5930억",),), wrong=(), answerable=True, split="tune")
    return RealQuestion(**{**base, **kw})


def answer(text: str, cited: bool = True) -> Answer:
    chunk = chunk_article(ARTICLE, 400, 0)[0]
    citations = (Citation(1, ARTICLE, "엔비디아 시가총액이 5930억달러 줄었다.", chunk, 0, 24),) if cited else ()
    return Answer("q", text, refused=text == REFUSAL, citations=citations)


def test_a_number_matches_only_whole():
    assert mentions("5,930억 달러 [1]", "5930억")
    assert not mentions("15930억 달러", "5930억") and not mentions("1.30억", "30억")
    assert mentions("반등했다.30일 샤오미는", "30일")  # a sentence's full stop is no decimal point


@pytest.mark.parametrize(
    ("q", "a", "right"),
    [
        (question(), answer("5,930억달러 줄었습니다 [1]."), True),
        (question(), answer("5,930억달러 줄었습니다."), True),
        (question(), answer("5,930억달러 줄었습니다.", cited=False), False),  # no citation into a gold article
        (question(), answer("17% 떨어졌습니다 [1]."), False),  # the wrong figure
        (question(), answer(REFUSAL, cited=False), False),  # a false refusal
        (question(gold=("articles/b.txt:1",)), answer("5,930억달러 줄었습니다 [1]."), False),  # cites another article
        (question(question="그럼 브로드컴은?", kind="adversarial", keywords=(("1%",),), wrong=("5930억",)),
         answer("브로드컴은 5930억달러 줄었습니다 [1]."), False),  # another subject's fact
        (question(kind="absent-topic", answerable=False, keywords=(), gold=()), answer(REFUSAL, cited=False), True),
        (question(kind="absent-topic", answerable=False, keywords=(), gold=()), answer("5930억입니다 [1]."), False),
        (question(kind="chitchat", answerable=False, keywords=(), gold=(), question="안녕"),
         answer("안녕하세요. 기사에 대해 물어보세요.", cited=False), True),
        (question(kind="chitchat", answerable=False, keywords=(), gold=(), question="안녕"), answer(REFUSAL, cited=False), False),
    ],
    ids=["right", "marker-free", "uncited", "wrong-figure", "false-refusal", "other-article", "other-subject",
         "absent-refused", "absent-answered", "chitchat", "chitchat-refused"],
)
def test_is_right(q, a, right):
    assert is_right(q, a) is right


def test_scores_count_refusals_by_answerability():
    records = [
        {"kind": "fact", "answerable": True, "refused": True, "right": False, "said_wrong": False, "korean": True, "seconds": 1.0,
         "refusal": "not-asked", "gold_rank": None},
        {"kind": "fact", "answerable": True, "refused": False, "right": True, "said_wrong": False, "korean": True, "seconds": 3.0,
         "refusal": None, "gold_rank": 1},
        {"kind": "absent-topic", "answerable": False, "refused": True, "right": True, "said_wrong": False, "korean": True, "seconds": 2.0},
    ]
    s = score(records)
    assert s["kinds"]["fact"]["false_refusal"] == 0.5 and s["kinds"]["fact"]["right"] == 0.5
    assert s["all"]["refused_absent"] == 1.0 and s["all"]["seconds_mean"] == 2.0
    assert s["answerable"]["refusals"] == {"not-asked": 1} and s["answerable"]["gold_retrieved"] == 0.5


def test_a_broken_line_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a"}) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"q.jsonl:1: not a question"):
        load_questions(path)


def test_the_set_has_every_kind_in_both_halves():
    questions = load_questions(SET)
    assert len(questions) >= 264 and len({q.id for q in questions}) == len(questions)
    kinds = Counter(q.kind for q in questions)
    assert set(kinds) == KINDS and min(kinds.values()) >= 4 and kinds["adversarial"] >= 20
    assert Counter(q.corpus for q in questions) == {"bundled": 55, "news": 85, "news-dated": 54, "news-11": 70}
    for kind in KINDS:
        assert {q.split for q in questions if q.kind == kind} == {"tune", "test"}, kind
    for q in questions:
        assert (q.answerable and q.gold and q.keywords) or (not q.answerable and not q.keywords), q.id
        assert bool(q.history) == (q.kind == "follow-up") or q.kind == "adversarial", q.id


def test_bundled_gold_lines_exist():
    for q in load_questions(SET):
        for gold in q.gold if q.corpus == "bundled" else ():
            file, line = gold.rsplit(":", 1)
            lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
            text = lines[int(line) - 1]
            assert all(any(mentions(text, k) for k in group) for group in q.keywords), q.id


def test_check_gold_names_what_is_wrong():
    article = make_article("서울시가 2025년 서울색으로 그린오로라를 골랐다.", "articles/a.txt", line=1)
    ok = question(gold=("articles/a.txt:1",), keywords=(("그린오로라", "Green Aurora"),))
    assert check_gold([ok, question(id="absent", kind="absent-topic", answerable=False, gold=(), keywords=(),
                                    absent=(("서울색", "팬톤"),))], [article]) == []
    problems = check_gold([question(id="k", gold=("articles/a.txt:1",), keywords=(("스카이코럴",),)),
                           question(id="g", gold=("articles/b.txt:1",), keywords=()),
                           question(id="a", answerable=False, gold=(), keywords=(), absent=(("서울 색", "그린 오로라"),))], [article])
    assert problems == ["k: none of ['스카이코럴'] in articles/a.txt:1", "g: articles/b.txt:1 is not in the corpus",
                        "a: 서울 색 + 그린 오로라 is in articles/a.txt:1"]


@pytest.mark.skipif(not NEWS.is_dir(), reason="needs ../shared/news (real news, kept outside the project)")
@pytest.mark.parametrize("corpus", ["news", "news-dated", "news-11"])
def test_news_gold_holds_the_keywords_and_absent_words_are_absent(corpus):
    """Every gold/topic article is in the month(s), holds every keyword group, and no article holds
    a word combination an unanswerable question's absence was checked with."""
    questions = [q for q in load_questions(SET) if q.corpus == corpus]
    assert questions and check_gold(questions, read_paths(CORPORA[corpus]).articles) == []


@pytest.mark.skipif(not NEWS.is_dir(), reason="needs ../shared/news (real news, kept outside the project)")
def test_dated_questions_name_the_days_of_their_gold_and_not_of_their_distractors():
    """What makes a dated question one: its period (as rag/period.py resolves it, on its
    `today`) holds every gold article and no same-topic one, or, for a question whose answer was
    reported after the period (`after`), every gold article was printed after the period, within
    the lag its kind allows; its undated twin names no period, and every gold article holds the answer."""
    articles = {a.url: a for a in read_paths(sorted(NEWS.glob("chosun-2024-1*.jsonl"))).articles}
    dated = [q for q in load_questions(SET) if q.kind == "dated"]
    assert len(dated) >= 50 and {q.corpus for q in dated} == {"news-dated"} and sum(q.after for q in dated) >= 20
    for q in dated:
        period = find(q.question, date.fromisoformat(q.today) if q.today else date(2024, 11, 30))
        assert period is not None, q.id
        days = [dates.day(articles[g].date) for g in q.gold]
        if q.after:
            start, end = period.window()
            assert all(period.end < d <= end for d in days), (q.id, period, days)
        else:
            assert all(period.holds(d) for d in days), (q.id, period)
            assert not any(period.holds(dates.day(articles[s].date)) for s in q.same_topic), (q.id, period)
        assert q.undated and find(q.undated, date(2024, 11, 30)) is None, q.id
        for g in q.gold:
            text = articles[g].title + " " + articles[g].text
            assert all(any(mentions(text, k) for k in group) for group in q.keywords), (q.id, g)
