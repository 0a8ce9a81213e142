"""Questions about a period (rag/pipeline.py, rag/retrieve.py): the search stays within the
period and the person's filters, falls back with a notice when nothing there is about the
question, prefers the newer of equal reports, and the answer, its JSON and memo say when.
FakeEmbedder and FakeGenerator only; the real models are in test_e2e_cli.py."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import to_markdown, when
from rag.cli import main
from rag.config import Settings, load_config
from rag.fuse import Fused
from rag.stores.folder import index_paths
from rag.pipeline import Pipeline
from rag.retrieve import TIE, newer_first
from rag.types import Scope, answer_dict

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
ROWS = [  # one topic on three days, two outlets, and one undated article
    {"title": "코스피 2600 회복", "text": "코스피가 외국인 매수에 2600선을 회복했다. 반도체 업종이 지수를 끌어올렸다.",
     "date": "2024-10-02T15:40:00+09:00", "source": "조선일보"},
    {"title": "코스피 2550 하락", "text": "코스피가 외국인 매도에 2550으로 내려앉았다. 미국 금리 우려가 컸다.",
     "date": "2024-10-24T15:40:00+09:00", "source": "한겨레"},
    {"title": "코스피 2580 반등", "text": "코스피가 기관 매수로 2580까지 반등했다. 2차전지 업종이 강세였다.",
     "date": "Fri, 25 Oct 2024 06:40:00 GMT", "source": "조선일보"},
    {"title": "코스피 전망", "text": "코스피는 연말까지 박스권에 머물 것이라는 전망이 나왔다. 증권가는 2500~2700을 제시했다."},
]


@pytest.fixture
def pipeline(tmp_path, fake_embedder: FakeEmbedder, fake_generator: FakeGenerator) -> Pipeline:
    news = tmp_path / "news.jsonl"
    news.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), settings=SETTINGS)
    index = index_paths([news], config.index_dir, fake_embedder, SETTINGS).index
    return Pipeline(config, index, fake_embedder, fake_generator)


def titles(answer) -> set[str]:
    return {h.article.title for h in answer.hits}


def test_a_named_day_is_searched_alone_and_the_answer_says_so(pipeline, fake_generator):
    fake_generator.enqueue("코스피가 2600선을 회복했다 [1].")
    answer = pipeline.ask("10월 2일 코스피는?").answer
    assert titles(answer) == {"코스피 2600 회복"}
    assert answer.period.label == "2024-10-02" and answer.notice is None
    assert when(answer) == "2024-10-02 기사 기준"
    assert "*2024-10-02 기사 기준*" in to_markdown(answer)
    shown = answer_dict(answer)
    assert shown["period"] == {"since": "2024-10-02", "until": "2024-10-02", "label": "2024-10-02", "said": "10월 2일",
                               "recent": False, "reference": "2024-10-25"}  # the newest article's day
    assert shown["citations"][0]["date"] == "2024-10-02T15:40:00+09:00"


def test_relative_words_count_from_the_newest_article_or_the_given_day(pipeline, fake_generator):
    fake_generator.enqueue("2550으로 내려앉았다 [1].")
    fake_generator.enqueue("2600선을 회복했다 [1].")
    last_week = pipeline.ask("지난주 코스피는?", today=date(2024, 10, 30)).answer  # 10-21 … 10-27
    assert last_week.period.label == "2024-10-21 ~ 2024-10-27"
    assert titles(last_week) == {"코스피 2550 하락", "코스피 2580 반등"}
    yesterday = pipeline.ask("어제 코스피는?", today=date(2024, 10, 3)).answer
    assert titles(yesterday) == {"코스피 2600 회복"}


def test_a_period_is_answered_by_its_report_printed_after_it_not_by_later_news(tmp_path, fake_embedder, fake_generator):
    """A week's figures come after it: the search covers the week and its lag, and an article
    printed in the lag counts when its own dates speak of the week ("지난주" on the 21st)."""
    rows = [
        {"title": "휘발유 가격 상승", "text": "이번 주 휘발유 가격이 올랐다. 경유 가격도 함께 올랐다.", "date": "2024-10-16T10:00:00+09:00"},
        {"title": "주간 유가 동향", "text": "지난주 전국 휘발유 평균 가격은 리터당 1631원이었다고 오피넷이 밝혔다.", "date": "2024-10-21T10:00:00+09:00"},
        {"title": "휘발유 가격 전망", "text": "다음 달 휘발유 가격은 리터당 1590원으로 내릴 것으로 보인다.", "date": "2024-10-22T10:00:00+09:00"},
        {"title": "휘발유 가격 하락", "text": "이번 주 휘발유 가격은 리터당 1580원으로 내렸다.", "date": "2024-11-02T10:00:00+09:00"},
    ]
    news = tmp_path / "fuel.jsonl"
    news.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), settings=SETTINGS)
    pipeline = Pipeline(config, index_paths([news], config.index_dir, fake_embedder, SETTINGS).index, fake_embedder, fake_generator)
    found = pipeline.find("지난주 휘발유 가격 얼마였어?", today=date(2024, 10, 23))
    assert found.asked.period.label == "2024-10-14 ~ 2024-10-20" and found.asked.period.kind == "week"
    shown = [h.article.title for h in found.hits]
    assert "주간 유가 동향" in shown  # printed the day after the week, about it: once filtered out
    assert shown.index("휘발유 가격 전망") > shown.index("주간 유가 동향")  # printed after, about next month
    assert "휘발유 가격 하락" not in shown  # printed after the day asked on: not yet news then
    fake_generator.enqueue_choice("1631원")
    answer = pipeline.ask("지난주 휘발유 가격 얼마였어?", today=date(2024, 10, 23)).answer
    assert answer.value == "1631원" and answer.period.label == "2024-10-14 ~ 2024-10-20" and answer.as_of == "2024-10-21"


def test_a_period_with_nothing_on_the_question_falls_back_to_every_day_with_a_notice(pipeline, fake_generator):
    fake_generator.enqueue("2580까지 반등했다 [1].")
    answer = pipeline.ask("9월 3일 코스피는?").answer
    assert answer.notice == "2024-09-03 기사 중에는 관련 기사가 없어 전체 기간에서 찾았습니다."
    assert "코스피 전망" in titles(answer) and len(titles(answer)) > 1  # undated articles count again
    assert when(answer) == answer.notice


def test_the_persons_outlet_and_day_filters_hold_without_fallback(pipeline, fake_generator):
    fake_generator.enqueue("2550으로 내려앉았다 [1].")
    answer = pipeline.ask("코스피는?", scope=Scope(outlets=("한겨레",))).answer
    assert titles(answer) == {"코스피 2550 하락"}
    answer = pipeline.ask("샤오미 전기차 가격은?", scope=Scope(since=date(2024, 10, 20), until=date(2024, 10, 31))).answer
    assert answer.refused and answer.notice == "고른 기간·언론사의 기사 중에는 관련 기사가 없습니다."
    assert all(h.article.date >= "2024-10-20" for h in answer.hits)


def test_an_rss_date_is_counted_as_its_korean_day(pipeline, fake_generator):
    fake_generator.enqueue("2580까지 반등했다 [1].")
    answer = pipeline.ask("10월 25일 코스피는?").answer  # 06:40 GMT on the 25th is 15:40 in Korea
    assert titles(answer) == {"코스피 2580 반등"}


def test_of_equally_relevant_reports_the_newer_comes_first(pipeline):
    index = pipeline.index
    old, new = (next(c.id for c in index.chunks if index.articles[c.article_id].title == t) for t in ("코스피 2600 회복", "코스피 2580 반등"))
    tied = [Fused(old, 1.0, 1, 1), Fused(new, 1.0, 2, 2)]
    assert [f.id for f in newer_first(tied, index, date(2024, 10, 25), TIE)] == [new, old]
    clear = [Fused(old, 1.2, 1, 1), Fused(new, 1.0, 2, 2)]  # a clearly better older report stays first
    assert [f.id for f in newer_first(clear, index, date(2024, 10, 25), TIE)] == [old, new]


@pytest.mark.parametrize("args, message", [
    (["--since", "2024-13-01"], "시작일은 2024-10-01처럼 써 주세요. / --since '2024-13-01' is not a date: write it as 2024-10-01."),
    (["--today", "어제"], "기준일은 2024-10-01처럼 써 주세요."),
])
def test_the_cli_says_how_to_write_a_day(args, message, capsys):
    assert main(["ask", "코스피는?", *args]) == 1
    assert message in capsys.readouterr().err


def test_the_cli_refuses_a_start_after_the_end(capsys):
    assert main(["ask", "코스피는?", "--since", "2024-10-31", "--until", "2024-10-01"]) == 1
    assert "시작일이 종료일보다 늦습니다" in capsys.readouterr().err
