"""Scoring rules of the evaluation harness (rag/harness/evaluate.py), on hand-made answers."""
from __future__ import annotations

import pytest

from rag.harness.evaluate import contains, first_sentence, is_korean, normalize
from rag.types import Answer


def answer(text: str, refused: bool = False) -> Answer:
    return Answer(question="?", text=text, refused=refused, citations=(), hits=())


@pytest.mark.parametrize(
    ("text", "korean"),
    [
        ("엔비디아 주가는 17% 폭락했습니다 [1].", True),
        ("95.4% [1]", True),  # numbers only: no letters of another language
        ("NVIDIA 주가가 폭락했습니다 [1].", True),  # a name from the question
        ("Nvidia's stock fell 17% [1].", False),
        ("英伟达股价下跌 [1].", False),
        ("데kker스크 근방까지 진격했다 [1].", False),
    ],
)
def test_korean_only(text, korean):
    assert is_korean(answer(text), "NVIDIA 주가는 왜 떨어졌어?") is korean


def test_a_refusal_is_korean():
    assert is_korean(answer("제공된 기사에서 답을 찾을 수 없습니다.", refused=True), "Why?")


def test_containment_ignores_spaces_and_punctuation():
    assert normalize("2개의 측파대(sideband)") in normalize("반송파는 2개의 측파대 (sideband)를 생성한다.")


def test_first_sentence_containment_does_not_credit_a_span_after_a_wrong_answer():
    wrong_first = answer("조준입니다 [1]. 명나라는 정도전을 해임하라고 경고했다 [2].")
    assert contains(wrong_first, ("정도전",))
    assert not contains(wrong_first, ("정도전",), first_sentence(wrong_first.text))
    assert contains(answer("정도전입니다 [1]."), ("정도전",), first_sentence("정도전입니다 [1]."))


def test_a_refusal_contains_nothing():
    assert not contains(answer("정도전은 모릅니다.", refused=True), ("정도전",))
