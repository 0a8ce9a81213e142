"""Story questions get a timeline (rag/timeline.py, Pipeline.story): events, not articles, in date
order, each line a cited headline. FakeEmbedder and FakeGenerator only: no model is asked."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag import dates
from rag.config import Settings, load_config
from rag.stores.folder import index_paths
from rag.pipeline import Pipeline
from rag.timeline import asks_story, topic_of
from rag.types import Turn, answer_dict

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
ROWS = [
    {"title": "검찰, 명태균 자택 압수수색", "text": "창원지검은 9일 명태균씨의 자택을 압수수색했다. 검찰은 명씨의 휴대전화를 확보했다.",
     "date": "2024-10-09T18:00:00+09:00", "source": "조선일보"},
    {"title": "[속보] 검찰, 명태균 자택 압수수색", "text": "검찰이 9일 명태균씨 자택과 사무실을 압수수색한 것으로 확인됐다. 압수수색은 오전부터 진행됐다.",
     "date": "2024-10-09T19:00:00+09:00", "source": "한겨레"},
    {"title": "명태균 검찰 출석", "text": "명태균씨가 지난 8일 창원지검에 출석해 조사를 받았다. 명씨는 혐의를 부인했다.",
     "date": "2024-11-09T07:00:00+09:00", "source": "조선일보"},
    {"title": "명태균 구속", "text": "법원은 15일 명태균씨에 대한 구속영장을 발부했다. 명씨는 정치자금법 위반 혐의를 받는다.",
     "date": "2024-11-15T23:00:00+09:00", "source": "조선일보"},
    {"title": "코스피 2600 회복", "text": "코스피가 외국인 매수에 2600선을 회복했다. 반도체 업종이 지수를 끌어올렸다.",
     "date": "2024-11-10T15:40:00+09:00", "source": "조선일보"},
]


@pytest.fixture
def pipeline(tmp_path, fake_embedder: FakeEmbedder, fake_generator: FakeGenerator) -> Pipeline:
    news = tmp_path / "news.jsonl"
    news.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), settings=SETTINGS)
    return Pipeline(config, index_paths([news], config.index_dir, fake_embedder, SETTINGS).index, fake_embedder, fake_generator)


@pytest.mark.parametrize(("question", "story", "topic"), [
    ("명태균 사건 어떻게 됐어?", True, "명태균 사건"),
    ("딥시크 관련 뉴스 정리해줘", True, "딥시크"),
    ("What happened with DeepSeek this month?", True, "DeepSeek this month"),
    ("명태균 구속 언제 됐어?", False, None),
])
def test_a_story_is_told_by_its_words_and_its_topic_is_what_remains(question, story, topic):
    assert asks_story(question) == story or not story
    if topic:
        assert topic_of(question) == topic


def test_a_story_gets_one_cited_line_per_event_in_date_order(pipeline, fake_generator):
    reply = pipeline.ask("명태균 사건 정리해줘")
    pieces = list(reply)
    answer = reply.answer
    assert fake_generator.requests == [] and fake_generator.choices == []  # no model
    lines = answer.text.splitlines()
    assert pieces == [answer.text] and lines[0].startswith("명태균 사건 · 2024-10-09 ~ 2024-11-15 · 기사 4건 · 사건 3건")
    assert lines[1] == "- 10월 9일 — 검찰, 명태균 자택 압수수색 [1] (기사 2건 · 2개 언론사)"  # two outlets, one event
    assert lines[2].startswith("- 11월 8일 — 명태균 검찰 출석 [2]")  # happened the day before the paper, as its lead says
    assert lines[3].startswith("- 11월 15일 — 명태균 구속 [3]") and "코스피" not in answer.text
    assert [c.n for c in answer.citations] == [1, 2, 3] and all(c.headline for c in answer.citations)
    shown = answer_dict(answer)["timeline"]
    assert [e["day"] for e in shown] == ["2024-10-09", "2024-11-08", "2024-11-15"] and shown[0]["outlets"] == ["조선일보", "한겨레"]
    # the page: one row per event, day down the side; each event's article with its headline marked
    # and its lead (an event cites no passage)
    from ui.render import answer_html, sources_html

    assert answer_html(answer, 0).count('<div class="tl-row">') == 3
    sources = sources_html(answer)
    assert sources.count('<div class="src">') == 3 and '<mark id="src-2">명태균 검찰 출석<sup>[2]</sup></mark>' in sources
    assert '<blockquote>법원은 15일 명태균씨에 대한 구속영장을 발부했다.' in sources


def test_a_story_within_a_period_keeps_its_events(pipeline):
    answer = pipeline.ask("11월 명태균 소식 정리해줘", today=date(2024, 11, 30)).answer
    assert [e.day for e in answer.timeline] == [date(2024, 11, 8), date(2024, 11, 15)]
    assert answer.period.label == "2024-11-01 ~ 2024-11-30"


def test_a_timeline_can_be_asked_for_and_a_story_nothing_tells_is_refused(pipeline):
    assert pipeline.ask("명태균", timeline=True).answer.timeline
    assert pipeline.ask("혼다 닛산 합병 정리해줘").answer.refused


def test_a_follow_up_asks_about_one_event_of_the_timeline(pipeline):
    told = pipeline.ask("명태균 사건 정리해줘").answer
    answer = pipeline.ask("그 중에 두 번째 사건 자세히", [Turn(told.question, told.text)]).answer
    assert answer.question == "11월 8일 명태균 검찰 출석" and not answer.timeline  # asked on its day: its articles are found
    assert answer.hits[0].article.title == "명태균 검찰 출석"


NEWS = Path(__file__).resolve().parent.parent.parent / "shared" / "news"


@pytest.mark.skipif(not NEWS.is_dir(), reason="needs ../shared/news (real news, kept outside the project)")
def test_the_story_set_names_real_articles_printed_on_or_after_their_events():
    """eval/stories.jsonl: every event article is in the two months, printed on its event's day
    or up to two days after, under one event only, naming one of the story's words; events in
    date order and within the question's days; tune and test alternate."""
    from rag.harness.stories import load_stories
    from rag.ingest import read_paths
    from rag.korean import key

    articles = {a.url: a for a in read_paths(sorted(NEWS.glob("chosun-2024-1*.jsonl"))).articles}
    stories = load_stories(Path(__file__).resolve().parent.parent / "eval" / "stories.jsonl")
    assert len(stories) >= 20 and [s.split for s in stories] == ["tune", "test"] * (len(stories) // 2)
    for s in stories:
        days = [date.fromisoformat(e["day"]) for e in s.events]
        assert days == sorted(days) and len(set(days)) >= 3, s.id
        seen = [u for e in s.events for u in e["articles"]]
        assert len(seen) == len(set(seen)), s.id  # no article under two events
        for e, day in zip(s.events, days):
            for url in e["articles"]:
                a = articles[url]
                assert 0 <= (dates.day(a.date) - day).days <= 2, (s.id, e["what"], url)
                assert any(key(w) in key(a.title + a.text) for w in s.words), (s.id, url)
