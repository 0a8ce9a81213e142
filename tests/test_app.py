"""The chat page's handlers (ui/app.py) without a browser, over a Pipeline of fakes: what a
question shows while it streams and once answered, Korean messages for errors, uploads and
profile switches. The page itself, in a real browser with the real models, is
test_e2e_browser.py."""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest
import yaml
from conftest import ANSWER, CHOICE

from rag import Note, load_config, markdown
from rag.config import ModelSpec
from ui.app import App, _add_files, _switch_profile, respond, store_upload
from ui.memo import _added, _edited, _removed


def as_shown(steps) -> list[tuple]:
    """Each update as the page gets it (the handler goes on changing the chat list it yielded)."""
    return [copy.deepcopy(step) for step in steps]


def test_a_question_shows_at_once_streams_and_ends_with_links_sources_and_memo(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    steps = as_shown(respond(app, "엔비디아 주가는 얼마나 폭락했어?", [], [], 4))
    first, *streaming, final = steps
    chat, _, note, notes, turns, box = first
    assert [m["content"] for m in chat] == ["엔비디아 주가는 얼마나 폭락했어?", "…"] and box == ""
    assert [s[0][-1]["content"] for s in streaming if isinstance(s[0], list)] == [ANSWER]  # heartbeats skip
    chat, sources, note, notes, turns, _ = final
    assert '<a class="cite" href="#src-1"' in chat[-1]["content"]
    assert '<a class="add-memo" href="#memo-0">' in chat[-1]["content"]
    assert "딥시크 쇼크" in sources and "<mark" in sources
    memo = markdown([Note.from_dict(notes[0])])
    assert memo.startswith("**질문:** 엔비디아 주가는 얼마나 폭락했어?") and "[1] 딥시크 쇼크" in memo
    assert turns == [["엔비디아 주가는 얼마나 폭락했어?", ANSWER]] and note == ""


def test_a_follow_up_shows_its_rewrite_and_joins_the_conversation(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    earlier = [["엔비디아 주가는 얼마나 폭락했어?", "17% 폭락했다 [1]."]]
    *_, (chat, _, note, _, turns, _) = respond(app, "그럼 딥시크는?", [], earlier, 4)
    assert note == "다시 쓴 질문: 딥시크 주가는 얼마나 폭락했어?"
    assert [question for question, _ in turns] == ["엔비디아 주가는 얼마나 폭락했어?", "딥시크 주가는 얼마나 폭락했어?"]


def test_html_in_a_question_is_shown_as_text(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    (chat, *_), *_ = respond(app, "<img src=x onerror=alert(1)> 엔비디아 주가는?", [], [], 4)
    assert chat[0]["content"].startswith("&lt;img src=x onerror=alert(1)&gt;")


@pytest.mark.parametrize("question", ["", "   ", "😀😀"])
def test_an_empty_or_wordless_question_gets_a_korean_warning_and_reaches_no_model(app, fake_generator, question):
    with pytest.warns(UserWarning, match="질문을 입력하세요|질문에 글자가 없습니다"):
        assert list(respond(app, question, [], [], 4)) == []
    assert fake_generator.requests == []


def test_a_question_before_the_models_are_loaded_gets_a_korean_error(app):
    app.pipeline = None
    with pytest.raises(gr.Error, match="모델을 불러오는 중"):
        list(respond(app, "엔비디아 주가는?", [], [], 4))


def test_a_failed_load_says_what_to_do_in_korean(tmp_path):
    missing = ModelSpec("gone", "embedder", "gone", "path", path=str(tmp_path / "nowhere"))
    app = App(replace(load_config(index_dir=tmp_path / "index"), embedder=missing)).start()
    assert not app.wait(60)
    assert app.failed and app.status.startswith("오류: 모델을 준비하지 못했습니다")
    with pytest.raises(gr.Error, match="모델을 준비하지 못했습니다"):
        list(respond(app, "엔비디아 주가는?", [], [], 4))


def test_an_upload_is_kept_under_a_safe_name_and_searchable(app, tmp_path, fake_generator):
    upload = tmp_path / "제로폰 소식!.md"  # Gradio hands over the browser's file name
    upload.write_text("# 제로폰 출시\n테스트전자는 제로폰 X1을 99만원에 출시한다고 밝혔다.", encoding="utf-8")
    calls = []
    status, cleared = _add_files(app, [str(upload)], lambda *a, **k: calls.append(k.get("desc")))
    assert "최근 추가: 기사 1건 추가" in status and cleared is None
    assert [p.name for p in (app.config.data_dir / "uploads").iterdir()] == ["제로폰_소식_.md"]
    assert "기사 읽는 중" in calls
    fake_generator.enqueue_choice("99만원")
    *_, (chat, sources, *_) = respond(app, "제로폰 X1 가격은?", [], [], 4)
    assert "99만원" in chat[-1]["content"] and "제로폰 출시" in sources


def test_an_unreadable_upload_is_reported_in_korean(app, tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="JSON 형식이 아니어서 건너뜀"):
        status, _ = _add_files(app, [str(bad)], lambda *a, **k: None)
    assert "기사 0건 추가" in status


def test_the_same_upload_twice_never_overwrites(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("첫째", encoding="utf-8")
    first = store_upload(src, tmp_path / "uploads")
    src.write_text("둘째", encoding="utf-8")
    second = store_upload(src, tmp_path / "uploads")
    assert (first.name, second.name) == ("a.txt", "a-2.txt")
    assert first.read_text(encoding="utf-8") == "첫째" and second.read_text(encoding="utf-8") == "둘째"


def test_switching_to_the_same_profile_changes_nothing(app):
    pipeline = app.pipeline
    assert _switch_profile(app, app.config.profile).startswith("준비됨 · 기사 1건")
    assert app.pipeline is pipeline


def test_a_profile_with_another_embedder_is_refused_in_korean(app, tmp_path):
    raw = yaml.safe_load(Path(app.config.source).read_text(encoding="utf-8"))
    raw["models"]["other"] = {"kind": "embedder", "file": "other", "source": {"type": "path", "path": str(tmp_path)}}
    raw["profiles"]["small"]["embedder"] = "other"
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    before = app.pipeline = replace(app.pipeline, config=replace(app.pipeline.config, source=path))
    with pytest.raises(gr.Error, match="다른 임베딩 모델을 써서 색인을 다시 만들어야"):
        _switch_profile(app, "small")
    assert app.pipeline is before


def test_small_talk_is_answered_on_the_page_without_sources(app, fake_generator):
    *_, (chat, sources, note, notes, turns, _) = as_shown(respond(app, "안녕하세요", [], [], 4))
    assert "뉴스 기사" in chat[-1]["content"] and 'class="cite"' not in chat[-1]["content"]
    assert "찾을 수 없" not in chat[-1]["content"] and fake_generator.requests == []
    assert turns[-1][0] == "안녕하세요"


def test_a_question_waits_in_the_models_line_with_a_korean_note_and_the_question_shown(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    ahead = app.line.join()  # an API call is being answered
    steps = respond(app, "엔비디아 주가는 얼마나 폭락했어?", [], [], 4)
    chat, *_ = copy.deepcopy(next(steps))
    assert chat[0]["content"] == "엔비디아 주가는 얼마나 폭락했어?"
    chat, *_ = copy.deepcopy(next(steps))
    assert "앞에 1건이 먼저 처리되고 있습니다" in chat[-1]["content"] and "queue" not in chat[-1]["content"]
    app.line.leave(ahead)
    *_, (chat, *_) = steps
    assert 'class="cite"' in chat[-1]["content"]
    assert app.line.wait(app.line.join(), 0)  # the answered question gave its turn back


def test_a_question_stopped_while_waiting_gives_its_place_back(app):
    ahead = app.line.join()
    steps = respond(app, "엔비디아 주가는?", [], [], 4)
    next(steps), next(steps)
    steps.close()  # the stop button, or the tab closed
    app.line.leave(ahead)
    assert app.line.wait(app.line.join(), 0)


def test_answers_are_added_to_the_memo_once_removed_and_edited(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    *_, (_, _, _, notes, _, _) = respond(app, "엔비디아 주가는 얼마나 폭락했어?", [], [], 4)
    kept = _added(0, notes, [])
    assert kept == notes
    assert _added(0, notes, kept) == gr.skip()  # not twice
    assert _edited(0, kept, "17% 폭락[1].")[0]["text"] == "17% 폭락[1]."
    with pytest.warns(UserWarning):
        assert _edited(0, kept, "근거 없는 말[4].") == gr.skip()
    assert _removed(0, kept) == []


def test_a_memo_note_the_page_cannot_read_is_not_shown_and_does_not_shift_removal_or_edits(app, fake_generator):
    fake_generator.enqueue_choice(CHOICE)
    *_, (_, _, _, notes, _, _) = respond(app, "엔비디아 주가는 얼마나 폭락했어?", [], [], 4)
    kept = [{"from": "an older page"}, notes[0], {**notes[0], "question": "둘째"}]
    assert [d["question"] for d in _removed(0, kept)] == ["둘째"]  # the first note shown, not the unreadable one
    assert _edited(1, kept, "17% 폭락[1].")[1]["question"] == "둘째"
