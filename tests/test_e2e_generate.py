"""The language model itself (real weights): its choice constrained to the options, the kept
states of prompt openings, and the prompt read in batches a stop can land between.

A chat mixes choices (after the worked examples) and follow-up rewrites or translations (their
own system prompts). Each switch of opening must not evaluate the worked examples again, and a
restored opening must choose exactly as one evaluated afresh.
"""
from __future__ import annotations

import pytest

from rag.config import load_config
from rag.load import load_generator
from rag.prompt import NONE, choice_messages

pytestmark = pytest.mark.e2e
SOURCE = ("[자료]\n[1] 반도체 · 2025-01-28\n엔비디아 주가는 27일 17% 폭락했다. 중국 딥시크가 저비용 AI 모델을 "
          "내놓은 충격 때문이다. 이날 시가총액 5890억 달러가 사라졌다.\n[자료 끝]\n\n[질문] ")


def ask(generator, opening: list[dict], question: str) -> tuple[str, dict]:
    reply = "".join(generator.stream(opening + [{"role": "user", "content": SOURCE + question}], 40))
    return reply, dict(generator.last_stats)


@pytest.fixture(scope="module")
def generator():
    return load_generator(load_config())


SENTENCES = ["엔비디아 주가는 27일 17% 폭락했다. 중국 딥시크가 저비용 AI 모델을 내놓은 충격 때문이다.",
             "이날 시가총액 5890억 달러가 사라졌고, 브로드컴은 17.4% 내렸다."]


def choose(generator, question: str, options: list[str]) -> tuple[str, dict]:
    steps = generator.choose(choice_messages(question, SENTENCES), options)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return options[done.value], dict(generator.last_stats)


@pytest.mark.parametrize(("question", "said"), [
    ("엔비디아 시가총액 얼마나 사라졌어?", "5890억 달러"),  # not the other figures of the sentences
    ("브로드컴 주가는 몇 % 내렸어?", "17.4%"),  # the neighbour of 엔비디아's 17%
    ("엔비디아 새 CEO 누구야?", NONE),  # none of the options answers
])
def test_the_model_chooses_among_the_options_and_says_nothing_else(generator, question, said):
    assert choose(generator, question, ["17%", "5890억 달러", "17.4%", NONE])[0] == said


def test_an_opening_seen_before_is_restored_not_evaluated_again(generator):
    factoid = "엔비디아 시가총액은 얼마나 사라졌어?"
    options = ["17%", "5890억 달러", NONE]
    generator.forget()

    first, stats = choose(generator, factoid, options)
    assert stats["prompt_reused"] == 0
    _, rewrite = ask(generator, [{"role": "system", "content": "질문을 한 문장으로 고쳐 쓰세요."}], "그럼 시가총액은?")
    assert rewrite["prompt_reused"] < 10  # another opening: only the template's first tokens are shared

    again, restored = choose(generator, factoid, options)
    assert restored["prompt_reused"] > 300  # the examples came back, not evaluated
    assert again == first == "5890억 달러"


def test_a_long_prompt_is_read_in_batches_that_a_stop_can_land_between(generator):
    """The prompt is read PROMPT_BATCH tokens at a time with a heartbeat ("") after each, so a
    reader that stops (the page's Stop, a closed page) frees the model within one batch."""
    import time

    from rag.generate import PROMPT_BATCH

    long_source = SOURCE.replace("[질문] ", "") * 12 + "[질문] "
    messages = [{"role": "user", "content": long_source + "엔비디아 주가는 왜 떨어졌어?"}]
    generator.forget()
    stream = generator.stream(messages, 40)
    beats, gaps, last = 0, [], time.perf_counter()
    for piece in stream:
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
        if piece:
            break
        beats += 1
    prompt = generator._tokenize(generator._format(messages))
    assert beats == -(-(len(prompt) - 1) // PROMPT_BATCH)  # one heartbeat per batch read
    speed = PROMPT_BATCH / sorted(gaps[1:-1])[len(gaps[1:-1]) // 2]  # prompt tokens/s, this machine
    print(f"prompt {len(prompt)} tokens, {beats} batches, {speed:.0f} tokens/s, longest batch {max(gaps[:-1]):.2f} s")

    stopped = generator.stream(messages, 40)
    next(stopped)  # reading its first batch
    t = time.perf_counter()
    stopped.close()  # what a stop does between batches
    assert time.perf_counter() - t < 0.5
    # the model is free and whole: the next prompt is answered (its numbers may differ in the
    # last bits from a fresh run's: llama.cpp's sums depend on how the prompt was batched)
    answer, stats = ask(generator, [], "엔비디아 주가는 왜 떨어졌어?")
    assert "딥시크" in answer and stats["generated_tokens"] > 0
