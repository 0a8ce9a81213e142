"""The answer flow (rag/pipeline.py), question checks (rag/question.py) and the index
policy (rag/load.py): what is refused before any retrieval or generation, what is cleaned
out of a question that is answered, the gate, retries, openings, small talk, loops and the
answer checks (what was asked, whose fact). FakeEmbedder and
FakeGenerator only.
"""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fakes import FakeEmbedder, FakeGenerator

from rag.stores import identity as built
from rag.config import Settings, load_config
from rag.errors import IndexMismatch, RagError
from rag.stores.folder import index_paths
from rag.korean import tokens
from rag.load import open_index
from rag.pipeline import Pipeline
from rag.prompt import EXAMPLES, NONE, REFUSAL
from rag.question import MAX_QUESTION, check_question
from rag.small_talk import SMALL_TALK
from rag.types import Answer, Turn

SETTINGS = Settings(chunk_size=200, chunk_overlap=40)
NVIDIA = "엔비디아 주가가 17% 폭락했다. 중국 딥시크가 값싼 AI 모델을 공개했기 때문이다. 시가총액 약 860조원이 사라졌다."
XIAOMI = "샤오미가 첫 전기차를 공개했다. 가격은 테슬라 모델3보다 낮다. 주문이 하루 만에 9만 대를 넘었다."
REPLY = ["엔비디아 주가가 17% 폭락했다", " [1]."]

EMPTY = "질문이 비어 있습니다 / The question is empty"
NO_WORDS = "질문에 글자가 없습니다. 단어로 질문해 주세요 / The question has no words"
TOO_LONG = "질문이 너무 깁니다 (최대 1,000자, 현재 20,000자) / The question is too long (20,000 characters; at most 1,000)"
REJECTED = [
    ("", EMPTY),
    ("   \n\t  ", EMPTY),
    ("\u200b\u200f\ufeff", EMPTY),  # only invisible characters
    ("가" * 20_000, TOO_LONG),
    ("😀😀", NO_WORDS),
    ("?!@#", NO_WORDS),
]


@pytest.fixture
def pipeline(tmp_path, fake_embedder: FakeEmbedder, fake_generator: FakeGenerator) -> Pipeline:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    (corpus / "xiaomi.md").write_text("# 샤오미 전기차\n" + XIAOMI, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), settings=SETTINGS)
    index = index_paths([corpus], config.index_dir, fake_embedder, SETTINGS).index
    fake_embedder.reset()  # from here on, only what answering a question embeds is counted
    return Pipeline(config, index, fake_embedder, fake_generator)


def streamed(pipeline: Pipeline, question: str) -> tuple[list[str], Answer]:
    """The pieces of text shown while the answer is generated, and the finished answer."""
    reply = pipeline.ask(question)
    return list(reply), reply.answer


def answer_of(pipeline: Pipeline, question: str) -> Answer:
    pieces, answer = streamed(pipeline, question)
    assert "".join(pieces) == "".join(REPLY)
    return answer


@pytest.mark.parametrize(("question", "message"), REJECTED, ids=["empty", "spaces", "invisible", "long", "emoji", "symbols"])
def test_check_question_rejects(question, message):
    with pytest.raises(RagError) as e:
        check_question(question)
    assert str(e.value).startswith(message)


def test_limit_is_the_one_in_the_message():
    assert MAX_QUESTION == 1000
    assert check_question("가" * MAX_QUESTION) == "가" * MAX_QUESTION
    with pytest.raises(RagError, match="최대 1,000자, 현재 1,001자"):
        check_question("가" * (MAX_QUESTION + 1))


@pytest.mark.parametrize(("question", "message"), REJECTED, ids=["empty", "spaces", "invisible", "long", "emoji", "symbols"])
def test_rejected_question_retrieves_and_generates_nothing(pipeline, fake_embedder, fake_generator, question, message):
    fake_generator.enqueue(REPLY)  # were the question let through, this reply would be streamed
    with pytest.raises(RagError) as e:
        pipeline.ask(question)
    assert str(e.value).startswith(message)
    assert fake_generator.requests == [] and fake_generator.pending == 1
    assert fake_embedder.calls == []


def test_control_characters_are_removed_and_the_question_answered(pipeline, fake_generator):
    _, answer = streamed(pipeline, "엔비디아\x00 주가\x1b[31m는 왜\r\n떨어졌어?\x7f")
    # a terminal colour code goes whole; other control characters become spaces
    assert answer.question == "엔비디아 주가는 왜 떨어졌어?"
    assert not any(c in answer.text for c in "\x00\x1b\x7f")
    assert not answer.refused and answer.citations[0].article.title == "딥시크 쇼크" and "때문" in answer.text


INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",  # left-to-right embedding
    "\u202e",  # right-to-left override
    "\ufeff",  # byte order mark / zero-width no-break space
    "\u2060",
    "\u2066",
    "\u2069",
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_zero_width_and_bidi_characters_are_removed(char):
    assert check_question(f"{char}엔비디아 {char}주가는{char} 왜 떨어졌어?{char}") == "엔비디아 주가는 왜 떨어졌어?"


def test_invisible_character_inside_a_word_does_not_split_it():
    assert check_question("엔\u200b비디아 주가\u200d는?") == "엔비디아 주가는?"


def test_question_with_invisible_characters_is_answered(pipeline, fake_generator):
    _, answer = streamed(pipeline, "\u202e엔비디아 \u200b주가는\u200f 왜 떨어졌어?\ufeff")
    assert answer.question == "엔비디아 주가는 왜 떨어졌어?"
    assert not answer.refused and answer.citations[0].article.title == "딥시크 쇼크"


def test_question_no_source_sentence_is_about_is_refused_without_the_model(pipeline, fake_generator):
    pieces, answer = streamed(pipeline, "삼성전자의 3분기 영업이익은 얼마야?")
    assert pieces == [] and fake_generator.requests == []
    assert answer.refused and answer.text == REFUSAL and answer.citations == () and answer.refusal == "unrelated"


def test_the_model_chooses_a_figure_among_the_values_and_the_code_writes_the_answer(pipeline, fake_generator):
    fake_generator.enqueue_choice("17%")
    pieces, answer = streamed(pipeline, "엔비디아 주가는 얼마나 폭락했어?")
    [(messages, options)] = fake_generator.choices
    assert options[-1] == NONE and {"17%", "860조원"} <= set(options)  # every figure of the evidence, and none of them
    assert "엔비디아 주가가 17% 폭락했다." in messages[-1]["content"] and messages[-1]["content"].endswith("[질문] 엔비디아 주가는 얼마나 폭락했어?")
    assert answer.text == "엔비디아 주가는 17% 폭락했습니다 [1]. “엔비디아 주가가 17% 폭락했다.” [1]"
    assert pieces[-1] == answer.text and answer.value == "17%" and answer.chosen_by == "model"
    assert answer.citations[0].quote == "엔비디아 주가가 17% 폭락했다." and answer.citations[0].article.title == "딥시크 쇼크"


def test_when_the_model_says_none_of_the_values_answers_the_question_is_refused(pipeline, fake_generator):
    settings = replace(pipeline.config.settings, choice_sure=1.01)
    pipeline = replace(pipeline, config=replace(pipeline.config, settings=settings))
    fake_generator.enqueue_choice(NONE)
    pieces, answer = streamed(pipeline, "엔비디아 주가는 얼마나 폭락했어?")
    assert "".join(pieces) == "" and answer.refused and answer.refusal == "model" and answer.text == REFUSAL
    assert answer.evidence and answer.evidence[0].text.startswith("엔비디아 주가가 17%")  # shown to the person


def test_a_cause_is_chosen_by_the_code_and_said_with_its_marker(pipeline, fake_generator):
    answer = pipeline.ask("엔비디아 주가는 왜 폭락했어?").answer
    assert fake_generator.choices == [] and answer.chosen_by == "code"
    assert answer.text.startswith("엔비디아 주가는 중국 딥시크가 값싼 AI 모델을 공개했기 때문에 폭락했습니다 [1].")


def test_a_value_whose_sentence_says_the_opposite_of_what_was_asked_is_not_the_answer(pipeline, fake_generator, tmp_path):
    (tmp_path / "market.md").write_text("# 뉴욕증시\n폭락했던 오라클은 2% 올랐다. 엔비디아는 17% 내렸다.", encoding="utf-8")
    pipeline.add_files([tmp_path / "market.md"])
    answer = pipeline.ask("오라클 시가총액은 얼마나 줄었어?").answer
    assert answer.refused and answer.refusal == "not-asked" and fake_generator.choices == []


def test_default_index_from_another_version_is_rebuilt_with_the_uploads(tmp_path, fake_embedder, monkeypatch):
    articles, data = tmp_path / "articles", tmp_path / "data"
    articles.mkdir()
    data.mkdir()
    (articles / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    (data / "xiaomi.md").write_text("# 샤오미 전기차\n" + XIAOMI, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), articles_dir=articles, data_dir=data, settings=SETTINGS,
                     default_index=True)
    index_paths([articles, data], config.index_dir, fake_embedder, SETTINGS)
    monkeypatch.setattr(built, "SCHEMA_VERSION", built.SCHEMA_VERSION + 1)
    index = open_index(config, fake_embedder)
    assert index.identity.schema_version == built.SCHEMA_VERSION
    assert sorted(a.title for a in index.articles.values()) == ["딥시크 쇼크", "샤오미 전기차"]


def test_default_index_built_with_other_bm25_settings_is_rebuilt(tmp_path, fake_embedder):
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), articles_dir=tmp_path / "articles",
                     data_dir=tmp_path / "data", settings=SETTINGS, default_index=True)
    index_paths([config.articles_dir], config.index_dir, fake_embedder, replace(SETTINGS, bm25_k1=1.5))
    index = open_index(config, fake_embedder)
    assert index.identity.bm25_k1 == SETTINGS.bm25_k1 and len(index.articles) == 1


def test_default_index_of_the_previous_manifest_layout_is_rebuilt(tmp_path, fake_embedder):
    """An index of the one-folder layout (schema 4 and before: CURRENT names a data folder) is
    a mismatch, not damage: the bundled index rebuilds itself after an update."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "index"), articles_dir=tmp_path / "articles",
                     data_dir=tmp_path / "data", settings=SETTINGS, default_index=True)
    old = config.index_dir / "data-1"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text(json.dumps({"identity": {"schema_version": 4}, "articles": {}}), encoding="utf-8")
    (config.index_dir / "CURRENT").write_text("data-1", encoding="utf-8")
    with pytest.raises(IndexMismatch, match="older version"):
        open_index(replace(config, default_index=False), fake_embedder)
    index = open_index(config, fake_embedder)
    assert index.identity.schema_version == built.SCHEMA_VERSION and len(index.articles) == 1


def test_own_index_from_another_version_is_not_rebuilt(tmp_path, fake_embedder, monkeypatch):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "nvidia.md").write_text("# 딥시크 쇼크\n" + NVIDIA, encoding="utf-8")
    config = replace(load_config(index_dir=tmp_path / "mine"), articles_dir=tmp_path / "articles", settings=SETTINGS)
    index_paths([tmp_path / "news"], config.index_dir, fake_embedder, SETTINGS)
    monkeypatch.setattr(built, "SCHEMA_VERSION", built.SCHEMA_VERSION + 1)
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        open_index(config, fake_embedder)


def test_every_choice_is_asked_after_the_same_worked_examples_the_page_warms(pipeline, fake_generator):
    # the model reuses the KV state of an unchanged opening: the examples must not vary per question
    fake_generator.enqueue_choice(NONE)
    pipeline.warm()
    for question, said in (("엔비디아 주가는 얼마나 폭락했어?", "17%"), ("샤오미 전기차 주문은 몇 대야?", "9만 대")):
        fake_generator.enqueue_choice(said)
        assert not pipeline.ask(question).answer.refused
    (opening, _), (first, _), (second, _) = fake_generator.choices
    assert opening[:-1] == first[:-1] == second[:-1]
    assert [m["role"] for m in first] == ["system"] + ["user", "assistant"] * len(EXAMPLES) + ["user"]
    # an example is laid out exactly as a real question is
    assert first[1]["content"].startswith("[자료] ") and "\n[질문] " in first[1]["content"]
    assert first[-1]["content"].startswith("[자료] ") and "\n[질문] " in first[-1]["content"]


def test_small_talk_gets_a_short_korean_reply_without_search_model_or_citation(pipeline, fake_embedder, fake_generator):
    pieces, answer = streamed(pipeline, "안녕하세요~")
    assert "".join(pieces) == answer.text == SMALL_TALK["hello"]
    assert not answer.refused and answer.citations == () and answer.hits == ()
    assert fake_generator.requests == [] and fake_embedder.calls == []


def ask_about(pipeline, tmp_path, article: str, question: str):
    """Index one article, then ask."""
    (tmp_path / "article.md").write_text(article, encoding="utf-8")
    pipeline.add_files([tmp_path / "article.md"])
    return pipeline.ask(question).answer


def test_a_fact_owned_by_another_name_is_not_given_to_the_subject(pipeline, fake_generator, tmp_path):
    # the sentence is about 엑스AI's value, not 오픈AI's: no value is left for the model to choose
    answer = ask_about(pipeline, tmp_path, "# 엑스AI\n현재 엑스AI의 기업 가치는 약 750억 달러로 평가된다. 오픈AI는 투자를 받았다.",
                       "오픈AI 기업 가치 얼마야?")
    assert answer.refused and fake_generator.choices == []
    fake_generator.enqueue_choice("750억 달러")
    answer = pipeline.ask("엑스AI 기업 가치 얼마야?").answer
    assert not answer.refused and answer.text.startswith("엑스AI 기업 가치는 750억 달러입니다 [1].")


def test_a_name_another_name_owns_is_not_the_answer(pipeline, fake_generator, tmp_path):
    fake_generator.enqueue_choice(NONE)  # if it is asked
    answer = ask_about(pipeline, tmp_path, "# 딥시크\n딥시크의 모델에 오픈AI의 창립자인 샘 올트먼도 놀랐다.", "딥시크 창립자 이름이 뭐야?")
    assert answer.refused
    assert all("샘 올트먼" not in options for _, options in fake_generator.choices)  # 오픈AI's founder is never offered
    fake_generator.choices.clear()
    fake_generator.enqueue_choice("샘 올트먼")
    assert not pipeline.ask("오픈AI 창립자 이름이 뭐야?").answer.refused


def test_an_answer_from_an_article_naming_none_of_the_question_s_names_is_refused(pipeline, fake_generator, tmp_path):
    answer = ask_about(pipeline, tmp_path, "# 국회\n한 총리는 새 총리 인선에 대해 말을 아꼈다.", "일본 새 총리 누구야?")
    assert answer.refused and fake_generator.choices == []


def test_one_subject_s_fact_is_not_given_to_another(pipeline, fake_generator, tmp_path):
    (tmp_path / "market.md").write_text(
        "# 뉴욕증시\n엔비디아는 전 날 하락으로 시가총액이 5,930억달러 감소했다. 역시 폭락했던 브로드컴은 1% 올랐다.", encoding="utf-8")
    pipeline.add_files([tmp_path / "market.md"])
    answer = pipeline.ask("브로드컴 시가총액은 얼마나 줄었어?").answer
    assert answer.refused and fake_generator.choices == []  # 5,930억달러 is 엔비디아's; 1% says the opposite
    fake_generator.enqueue_choice("1%")
    answer = pipeline.ask("브로드컴은 얼마나 올랐어?").answer
    assert not answer.refused and answer.citations[0].quote == "역시 폭락했던 브로드컴은 1% 올랐다."


def test_a_follow_up_pointing_at_the_previous_answer_asks_about_what_it_named(pipeline, fake_generator):
    fake_generator.enqueue_choice("9만 대")
    earlier = Turn("중국 전기차 회사 어디야?", "샤오미입니다 [1].")
    answer = pipeline.ask("거기 전기차 주문은 몇 대야?", [earlier]).answer
    assert answer.question.startswith("샤오미 전기차 주문은 몇 대야?") and answer.asked == "거기 전기차 주문은 몇 대야?"
    assert not answer.refused and "9만" in answer.text


def test_a_follow_up_about_another_year_does_not_get_this_year_s_figure(pipeline, fake_generator, tmp_path):
    (tmp_path / "festival.md").write_text("# 탈춤축제\n올해 탈춤축제에는 148만 명이 다녀갔다. 지난해에는 88만 명이 찾았다.", encoding="utf-8")
    pipeline.add_files([tmp_path / "festival.md"])
    fake_generator.enqueue_choice("88만 명")
    earlier = Turn("탈춤축제 올해 몇 명 왔어?", "148만 명이 다녀갔다 [1].")
    answer = pipeline.ask("그럼 작년엔?", [earlier]).answer
    [(_, options)] = fake_generator.choices
    assert answer.question == "탈춤축제 작년 몇 명 왔어?" and "148만 명" not in options  # this year's, not the year asked
    assert answer.value == "88만 명" and answer.citations[0].quote == "지난해에는 88만 명이 찾았다."


def test_a_big_upload_is_embedded_in_the_background_and_answers_use_it(pipeline, fake_generator, tmp_path, monkeypatch):
    import rag.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "INLINE_CHUNKS", 0)  # every upload counts as big
    (tmp_path / "market.md").write_text("# 환율 급등\n" + "원·달러 환율이 1450원을 넘어 마감했다. " * 40, encoding="utf-8")
    result = pipeline.add_files([tmp_path / "market.md"])
    assert result.index.pending > 0  # searchable by keyword already, vectors on their way
    assert pipeline.index.sparse.search(tokens("환율 마감"), 3)
    pipeline.background._thread.join(30)
    assert not pipeline.background.running() and pipeline.background.result.pending == 0
    fake_generator.enqueue_choice("1450원")
    pipeline.ask("환율 얼마야?").answer
    assert pipeline.index.pending == 0  # the answer refreshed the index with the new vectors


def test_background_embedding_waits_while_an_answer_is_written(pipeline):
    import threading

    waited = threading.Event()
    with pipeline.background.paused():
        between_batches = threading.Thread(target=lambda: (pipeline.background._progress("embed", 8, 80), waited.set()))
        between_batches.start()
        assert not waited.wait(0.3)  # held while the answer runs
    assert waited.wait(5)  # and goes on after it


def test_heartbeats_reach_the_reader_while_the_model_chooses(pipeline, fake_generator):
    """An empty piece is the model's heartbeat (a batch of the prompt read): every one reaches
    the page, which can be stopped only between pieces; none counts as the first token."""
    fake_generator.enqueue_choice("17%")
    pieces, answer = streamed(pipeline, "엔비디아 주가는 얼마나 폭락했어?")
    assert pieces == ["", answer.text]
    assert not answer.refused and answer.timings["first_token"] > 0


def test_a_follow_up_rewritten_by_the_model_gives_a_heartbeat_per_piece(pipeline, fake_generator):
    fake_generator.enqueue(["엔비디아 주가는", " 왜 폭락했어?"])  # the rewrite (the last answer was a refusal)
    reply = pipeline.ask("그건 왜 그랬어?", [Turn("엔비디아 주가는 얼마나 폭락했어?", REFUSAL)])
    pieces = list(reply)
    assert pieces[:2] == ["", ""] and reply.answer.question == "엔비디아 주가는 왜 폭락했어?"


def test_a_question_in_another_language_is_asked_in_korean_first(pipeline, fake_generator):
    fake_generator.enqueue(["엔비디아(Nvidia) 주가는", " 얼마나 폭락했어?"])  # the translation
    fake_generator.enqueue_choice("17%")
    answer = pipeline.ask("How much did Nvidia stock fall?").answer
    assert answer.question == "엔비디아(Nvidia) 주가는 얼마나 폭락했어?" and answer.asked == "How much did Nvidia stock fall?"
    assert answer.text.startswith("Nvidia 주가는 17% 폭락했습니다 [1].")  # the name as asked, not the model's Hangul guess
