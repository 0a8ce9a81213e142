"""Follow-ups made standalone (rag/question.py), with FakeGenerator: which follow-ups are
rewritten, how, and what happens when the model's rewrite is unusable."""
from __future__ import annotations

import pytest

from rag.question import needs_context, standalone, swap_entity

NVIDIA = "엔비디아 주가는 왜 떨어졌어?"
CEO = "엔비디아의 CEO는 누구야?"


def test_a_first_question_is_left_alone(fake_generator):
    assert standalone("그럼 브로드컴은?", [], fake_generator) == "그럼 브로드컴은?"
    assert fake_generator.requests == []


@pytest.mark.parametrize(
    ("follow_up", "previous", "rewritten"),
    [
        ("그럼 브로드컴은?", NVIDIA, "브로드컴 주가는 왜 떨어졌어?"),
        ("브로드컴은?", NVIDIA, "브로드컴 주가는 왜 떨어졌어?"),
        ("What about AMD?", NVIDIA, "AMD 주가는 왜 떨어졌어?"),
        ("그럼 그록 3는?", "샤오미가 공개한 AI 모델 이름은?", "그록 3가 공개한 AI 모델 이름은?"),
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
    assert standalone("그 사람은 언제 해임됐어?", ["테슬라 매출은?", CEO], fake_generator) == "엔비디아의 CEO는 언제 해임됐어?"
    [(messages, max_tokens)] = fake_generator.requests
    assert messages[-1]["content"] == f"이전 질문: {CEO}\n마지막 질문: 그 사람은 언제 해임됐어?\n고쳐 쓴 질문:"
    assert max_tokens <= 64  # a rewrite is one short line


@pytest.mark.parametrize(
    "bad",
    [
        "",  # nothing
        "고쳐 쓴 질문: 그 사람은 언제 해임됐어?",  # a template line leaked
        "엔비디아의 CEO는 누구야? 그 사람은 언제 해임됐어?",  # both questions glued
        "엔비디아 " * 40,  # a run-on
    ],
    ids=["empty", "template", "glued", "run-on"],
)
def test_an_unusable_rewrite_falls_back_to_the_previous_names(fake_generator, bad):
    fake_generator.enqueue(bad)
    assert standalone("그 사람은 언제 해임됐어?", [CEO], fake_generator) == "엔비디아 CEO 그 사람은 언제 해임됐어?"


def test_without_a_model_the_previous_names_are_joined(fake_generator):
    assert standalone("거기 창업자는?", ["딥시크는 어떤 회사야?"], None) == "딥시크 거기 창업자는?"


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
