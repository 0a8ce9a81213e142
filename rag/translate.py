"""A question in another language, asked in Korean first: the answer stage reads Korean.

The model translates a short question in about a second; the question's kind, subject and
predicate are then parsed from Korean (asked.py), and the answer is composed in Korean around
a value of the Korean articles. Names are where a translation fails ("Nvidia" once came back
"네이비드"): the name as written is kept in brackets beside the model's Hangul, so retrieval by
meaning still finds the article, and the answer states the name as the person wrote it
(compose.py).
"""
from __future__ import annotations

import collections.abc
import re

from .asked import foreign
from .generate import Generator

TRANSLATE_PROMPT = """외국어로 된 질문을 한국 신문 독자가 물을 법한 자연스러운 한국어 질문 한 문장으로 옮기세요.
이름은 한국 신문이 쓰는 한글 표기로 쓰고 원래 이름을 괄호 안에 남기세요. 옮긴 질문만 출력하세요."""
TRANSLATE_EXAMPLES = (
    ("Why did Tesla shares jump?", "테슬라(Tesla) 주가는 왜 올랐어?"),
    ("How many people visited the Andong mask festival?", "안동(Andong) 탈춤축제에 몇 명이 왔어?"),
)


def korean_steps(question: str, generator: Generator | None) -> collections.abc.Generator[str, None, str]:
    """The question in Korean, names kept as written in brackets; yields a heartbeat per piece of
    the model's translation. A question with Hangul, no model, or a translation that is no Korean
    question is left as it is."""
    if generator is None or not foreign(question):
        return question
    messages = [{"role": "system", "content": TRANSLATE_PROMPT}]
    for english_question, korean in TRANSLATE_EXAMPLES:
        messages += [{"role": "user", "content": english_question}, {"role": "assistant", "content": korean}]
    pieces = []
    for piece in generator.stream([*messages, {"role": "user", "content": question}], 48):
        pieces.append(piece)
        yield ""
    out = ("".join(pieces).strip().splitlines() or [""])[0].strip()
    if not re.search(r"[가-힣]", out) or len(out) > 3 * len(question) or "질문" in out:
        return question
    return out
