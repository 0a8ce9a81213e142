"""The question: cleaned of what a paste carries in, checked, and made standalone.

`check_question` turns what a person typed into a question or a RagError saying what to fix.
`standalone` rewrites a follow-up, because retrieval sees one question at a time, so a
follow-up must carry what it leaves out:
1. A bare noun phrase ("그럼 브로드컴은?") swaps the previous question's leading entity:
   "엔비디아 주가는 왜 떨어졌어?" -> "브로드컴 주가는 왜 떨어졌어?". Exact and instant.
2. A question leaning on the conversation ("거기 창업자는?", "그 모델 성능은?") is
   rewritten by the LLM from a few examples, and checked; a bad rewrite falls back to the
   previous question's key words joined to the new question.
3. Anything else is already standalone and is left alone.
"""
from __future__ import annotations

import re

from .errors import RagError
from .generate import Generator
from .korean import NOUN_TAGS, PROPER_TAGS, SUBJECT_TAGS, SUBJECT_TAIL_TAGS, kiwi

MAX_QUESTION = 1000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour codes pasted with the text
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_question(question: str) -> str:
    """The question cleaned of control characters, or a RagError saying what to fix."""
    # invisible characters are deleted (they sit inside words); line breaks and tabs are spaces
    question = _INVISIBLE.sub("", _ANSI.sub("", question or ""))
    question = " ".join(_CONTROL.sub(" ", question).split())
    if not question:
        raise RagError("The question is empty: type a question.", "질문이 비어 있습니다")
    if len(question) > MAX_QUESTION:
        raise RagError(
            f"The question is too long ({len(question):,} characters; at most {MAX_QUESTION:,}): ask about one "
            "thing at a time.",
            f"질문이 너무 깁니다 (최대 {MAX_QUESTION:,}자, 현재 {len(question):,}자)",
        )
    if not re.search(r"\w", question):
        raise RagError("The question has no words: ask in words.", "질문에 글자가 없습니다. 단어로 질문해 주세요")
    return question


_LEAD = re.compile(r"^\s*(그럼|그러면|그렇다면|그리고|또|그럼요|and|what about)\s*", re.IGNORECASE)
_REFERS = re.compile(r"(^|\s)(그|이|저|거기|여기|그곳|그것|이것|그거|이거|걔|그들|해당)(\s|$|[은는이가을를의에도])")

REWRITE_PROMPT = """이전 질문을 참고해 마지막 질문을 혼자서도 뜻이 통하는 완전한 질문으로 고쳐 쓰세요. 고쳐 쓴 질문 한 문장만 출력하세요.

예시:
이전 질문: 테슬라 매출은 얼마야?
마지막 질문: 그럼 영업이익은?
고쳐 쓴 질문: 테슬라 영업이익은 얼마야?

이전 질문: 오픈AI의 CEO는 누구야?
마지막 질문: 그 사람은 언제 해임됐어?
고쳐 쓴 질문: 오픈AI의 CEO는 언제 해임됐어?

이전 질문: 한국은행 기준금리는?
마지막 질문: 미국 실업률은 얼마야?
고쳐 쓴 질문: 미국 실업률은 얼마야?"""


def standalone(question: str, previous: list[str], generator: Generator | None = None) -> str:
    """The question made standalone using the previous (standalone) questions, newest last."""
    if not previous:
        return question
    last = previous[-1]
    if swapped := swap_entity(question, last):
        return swapped
    if not needs_context(question):
        return question
    if generator is not None:
        rewritten = _llm_rewrite(generator, question, last)
        if rewritten:
            return rewritten
    return f"{' '.join(_nouns(last))} {question}"


def swap_entity(question: str, previous: str) -> str | None:
    """Put a bare follow-up noun phrase in place of the previous question's leading entity.

    >>> swap_entity("그럼 브로드컴은?", "엔비디아 주가는 왜 떨어졌어?")
    '브로드컴 주가는 왜 떨어졌어?'
    >>> swap_entity("브로드컴 주가는 왜 올랐어?", "엔비디아 주가는 왜 떨어졌어?") is None
    True
    """
    body = _LEAD.sub("", question).strip().rstrip("?？ ")
    toks = kiwi().tokenize(body)
    if not toks or len(toks) > 5:
        return None
    *head, last_tok = toks
    if last_tok.tag.startswith("J"):  # a trailing particle: 은/는/이/가/도
        toks = head
    if not toks or any(t.tag not in NOUN_TAGS for t in toks):
        return None
    entity = body[toks[0].start : toks[-1].end]
    prev = kiwi().tokenize(previous)
    first = next((i for i, t in enumerate(prev) if t.tag in SUBJECT_TAGS), None)
    if first is None:
        return None
    end = first
    while end + 1 < len(prev) and prev[end + 1].tag in SUBJECT_TAIL_TAGS and prev[end + 1].start == prev[end].end:
        end += 1
    return previous[: prev[first].start] + entity + previous[prev[end].end :]


def needs_context(question: str) -> bool:
    """A demonstrative, a leading "그럼", or too few content words to stand alone."""
    content = [t for t in kiwi().tokenize(question) if t.tag in NOUN_TAGS]
    return bool(_REFERS.search(question) or _LEAD.match(question) or len(content) < 2)


def _llm_rewrite(generator: Generator, question: str, previous: str) -> str | None:
    messages = [
        {"role": "system", "content": REWRITE_PROMPT},
        {"role": "user", "content": f"이전 질문: {previous}\n마지막 질문: {question}\n고쳐 쓴 질문:"},
    ]
    text = "".join(generator.stream(messages, 48)).strip().splitlines()
    out = text[0].strip() if text else ""
    # reject echoes, leaked template lines, and run-ons that glue both questions together
    if not out or "질문" in out or out.count("?") > 1 or len(out) > 2 * (len(previous) + len(question)):
        return None
    return out


def _nouns(text: str) -> list[str]:
    """The proper nouns of a question, or its first common noun if it has none."""
    toks = kiwi().tokenize(text)
    names = [t.form for t in toks if t.tag in PROPER_TAGS]
    return names or [t.form for t in toks if t.tag == "NNG"][:1]
