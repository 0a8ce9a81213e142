"""Follow-ups made standalone and small talk recognised (rag/question.py), with FakeGenerator:
which follow-ups are rewritten, how, and what happens when the model's rewrite is unusable."""
from __future__ import annotations

import pytest

from rag.question import needs_context, standalone, swap_entity
from rag.small_talk import SMALL_TALK, small_talk
from rag.types import Turn

NVIDIA = Turn("엔비디아 주가는 왜 떨어졌어?", "중국 딥시크의 저가 AI 모델 공개 충격 때문입니다 [1].")
CEO = Turn("엔비디아의 CEO는 누구야?", "")  # an earlier answer that names nobody (refused, say)


def test_a_first_question_is_left_alone(fake_generator):
    assert standalone("그럼 브로드컴은?", [], fake_generator) == "그럼 브로드컴은?"
    assert fake_generator.requests == []


@pytest.mark.parametrize(
    ("follow_up", "previous", "rewritten"),
    [
        ("그럼 브로드컴은?", NVIDIA, "브로드컴 주가는 왜 떨어졌어?"),
        ("브로드컴은?", NVIDIA, "브로드컴 주가는 왜 떨어졌어?"),
        ("What about AMD?", NVIDIA, "AMD 주가는 왜 떨어졌어?"),
        ("그럼 그록 3는?", Turn("샤오미가 공개한 AI 모델 이름은?"), "그록 3가 공개한 AI 모델 이름은?"),
        ("그럼 작년엔?", Turn("안동 탈춤축제 올해 몇 명 왔어?"), "안동 탈춤축제 작년 몇 명 왔어?"),  # a time word swaps a time word
    ],
)
def test_a_bare_noun_phrase_takes_the_place_of_the_previous_subject(fake_generator, follow_up, previous, rewritten):
    assert standalone(follow_up, [previous], fake_generator) == rewritten
    assert fake_generator.requests == []  # exact and instant: the model is not asked


def test_a_standalone_question_after_another_is_left_alone(fake_generator):
    question = "미국 실업률은 얼마야?"
    assert standalone(question, [NVIDIA], fake_generator) == question
    assert fake_generator.requests == []


def test_a_question_leaning_on_the_conversation_is_rewritten_by_the_model(fake_generator):
    fake_generator.enqueue("엔비디아의 CEO는 언제 해임됐어?\n")
    assert standalone("그 사람은 언제 해임됐어?", [Turn("테슬라 매출은?"), CEO], fake_generator) == "엔비디아의 CEO는 언제 해임됐어?"
    [(messages, max_tokens)] = fake_generator.requests
    assert messages[-1]["content"] == f"이전 질문: {CEO.question}\n이전 답: \n마지막 질문: 그 사람은 언제 해임됐어?\n고쳐 쓴 질문:"
    assert max_tokens <= 64  # a rewrite is one short line


@pytest.mark.parametrize(
    "bad",
    [
        "",  # nothing
        "고쳐 쓴 질문: 그 사람은 언제 해임됐어?",  # a template line leaked
        "엔비디아의 CEO는 누구야? 그 사람은 언제 해임됐어?",  # both questions glued
        "엔비디아 " * 40,  # a run-on
        "엔비디아 iconductor CEO는 언제 해임됐어?",  # a name the conversation does not hold
        "엔비디아의 CEO는 누구야?",  # the previous question again
        "엔비디아의 CEO는 해임되었습니다.",  # no question
        "엔비디아의 CEO는 제공된 기사에서 답을 찾을 수 없습니다.",  # the refusal copied in
    ],
    ids=["empty", "template", "glued", "run-on", "garbled-name", "previous", "statement", "refusal"],
)
def test_an_unusable_rewrite_falls_back_to_the_previous_names(fake_generator, bad):
    fake_generator.enqueue(bad)
    assert standalone("그 사람은 언제 해임됐어?", [CEO], fake_generator) == "엔비디아 CEO 그 사람은 언제 해임됐어?"


def test_a_rewrite_that_drops_what_the_follow_up_asks_about_is_not_used(fake_generator):
    # seen on the page: "그럼 시가총액은 얼마나 줄었어?" came back as the share price question
    fake_generator.enqueue("엔비디아 주가는 얼마 줄었어?")
    earlier = Turn("엔비디아 주가는 왜 떨어졌어?", "엔비디아는 시가총액이 5,930억달러 감소했다 [1].")
    assert standalone("그럼 시가총액은 얼마나 줄었어?", [earlier], fake_generator) == "엔비디아 그럼 시가총액은 얼마나 줄었어?"


def test_without_a_model_the_previous_names_are_joined(fake_generator):
    assert standalone("거기 창업자는?", [Turn("딥시크 어떤 회사야?")], None) == "딥시크 거기 창업자는?"


@pytest.mark.parametrize(
    ("follow_up", "earlier", "rewritten"),
    [
        ("그 사람 원래 무슨 자리에 있었어?", Turn("화훙반도체 새 사장 누구야?", "화훙반도체 새 사장은 펭바이입니다 [1]."),
         "펭바이 원래 무슨 자리에 있었어? (화훙반도체 사장)"),
        # the answer names nobody new: the pointer is the previous question's subject
        ("그 회사 창업자는?", Turn("딥시크는 어떤 회사야?", "저렴한 추론 모델을 만든 스타트업입니다 [1]."), "딥시크 창업자는? (회사)"),
        ("거기는 언제 금지했는데?", Turn("딥시크를 정부 기기에서 금지한 나라 어디야?", "호주입니다 [1]."),
         "호주는 언제 금지했는데? (딥시크 정부 기기 금지 나라)"),
    ],
)
def test_a_pointer_to_the_previous_answer_takes_the_name_it_gave(fake_generator, follow_up, earlier, rewritten):
    assert standalone(follow_up, [earlier], fake_generator) == rewritten
    assert fake_generator.requests == []


def test_a_pointer_after_a_refusal_is_rewritten_from_the_question(fake_generator):
    fake_generator.enqueue("화훙반도체 새 사장은 원래 무슨 자리에 있었어?")
    earlier = Turn("화훙반도체 새 사장 누구야?", "제공된 기사에서 답을 찾을 수 없습니다.")
    assert standalone("그 사람 원래 무슨 자리에 있었어?", [earlier], fake_generator) == "화훙반도체 새 사장은 원래 무슨 자리에 있었어?"


@pytest.mark.parametrize(
    ("message", "kind"),
    [("안녕", "hello"), ("안녕하세요~ 처음 써봐요", "hello"), ("고마워!", "thanks"), ("잘 자~", "bye"),
     ("너는 뭘 할 수 있어?", "self"), ("Who are you?", "self"), ("너 챗GPT야?", "self"), ("심심한데 얘기나 하자", "idle")],
)
def test_small_talk_gets_its_own_reply(message, kind):
    assert small_talk(message) == SMALL_TALK[kind]


@pytest.mark.parametrize(
    "question",
    ["엔비디아 주가는 왜 떨어졌어?", "너 딥시크 알아?", "고마워 근데 딥시크는 뭐야?", "안녕 샤오미 모델 이름이 뭐야?",
     "What can DeepSeek do?", "그 사람 누구야?"],
)
def test_questions_about_the_articles_are_no_small_talk(question):
    assert small_talk(question) is None


@pytest.mark.parametrize(
    ("question", "needs"),
    [
        ("그 모델 성능은?", True),  # a demonstrative
        ("거기 창업자는?", True),
        ("그럼 영업이익은?", True),  # a leading 그럼
        ("매출은?", True),  # one content word cannot stand alone
        ("미국 실업률은 얼마야?", False),
        ("딥시크가 공개한 AI 모델 이름은?", False),
    ],
)
def test_needs_context(question, needs):
    assert needs_context(question) is needs


def test_a_long_follow_up_is_no_bare_noun_phrase():
    assert swap_entity("브로드컴 주가는 왜 올랐어?", NVIDIA) is None
    assert swap_entity("그럼 브로드컴은?", "왜 떨어졌어?") is None  # no subject to swap
