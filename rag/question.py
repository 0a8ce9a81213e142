"""The question: cleaned of what a paste carries in, checked, and made standalone.

`check_question` turns what a person typed into a question or a RagError saying what to fix.
`standalone` rewrites a follow-up, because retrieval sees one question at a time, so a
follow-up must carry what it leaves out:
1. A bare noun phrase ("그럼 브로드컴은?") swaps the previous question's leading entity:
   "엔비디아 주가는 왜 떨어졌어?" -> "브로드컴 주가는 왜 떨어졌어?". Exact and instant.
   A time word swaps the previous question's time word ("그럼 작년엔?").
2. A pointer to what the previous answer named ("그 사람", "거기") is replaced by that name:
   the rewrite must see earlier answers, not only earlier questions.
3. Any other question leaning on the conversation ("그 전 소장은?") is rewritten by the LLM
   from the previous question and answer, and checked (no name the conversation lacks); a
   bad rewrite falls back to the previous question's key words joined to the new question.
4. Anything else is already standalone and is left alone.
"""
from __future__ import annotations

import collections.abc
import re
from collections.abc import Iterable, Sequence
from datetime import date

from . import dates
from .compose import strip_markers
from .errors import RagError
from .generate import Generator
from .korean import NOUN_TAGS, PROPER_TAGS, SUBJECT_TAGS, SUBJECT_TAIL_TAGS, key, kiwi
from .prompt import REFUSAL
from .timeline import event_of
from .types import Scope, Turn

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
# a pointer to what the previous answer named: "그 사람", "그 회사", "거기", "걔"…
_POINTER = re.compile(r"그\s?(?:사람|분|회사|기업|나라|모델|제품|선수|작가|단체|기관)들?|거기|그곳|그거|그것|걔|쟤")
_THING = re.compile(r"거기|그곳|그거|그것")
# time words a bare follow-up ("그럼 작년엔?") puts in place of the previous question's
_TIME = re.compile(r"올해|작년|지난해|내년|이번 ?달|지난달|다음 ?달|이번 ?주|지난주|오늘|어제|내일|이번에?")

# what may describe the noun of a bare follow-up: "준우승한", "새로 취임한"
_DESCRIBING = NOUN_TAGS | {"XPN", "XSV", "XSA", "VV", "VA", "MAG", "ETM"}

REWRITE_PROMPT = """이전 질문과 답을 참고해 마지막 질문을 혼자서도 뜻이 통하는 완전한 질문으로 고쳐 쓰세요. 고쳐 쓴 질문 한 문장만 출력하세요.

예시:
이전 질문: 테슬라 매출은 얼마야?
이전 답: 테슬라의 매출은 251억 달러입니다 [1].
마지막 질문: 그럼 영업이익은?
고쳐 쓴 질문: 테슬라 영업이익은 얼마야?

이전 질문: 오픈AI의 CEO는 누구야?
이전 답: 샘 올트먼입니다 [1].
마지막 질문: 그 사람은 언제 해임됐어?
고쳐 쓴 질문: 샘 올트먼은 언제 해임됐어?

이전 질문: 한국은행 기준금리는?
이전 답: 연 3.5%입니다 [1].
마지막 질문: 미국 실업률은 얼마야?
고쳐 쓴 질문: 미국 실업률은 얼마야?"""


def check_scope(since: str | None, until: str | None, outlets: Iterable[str] = ()) -> Scope:
    """The days and outlets a person narrowed the search to (the page's boxes, `--since`,
    `--until`, `--source`), or a RagError saying what to fix: a day that cannot be read never
    becomes "all days".

    >>> check_scope("2024.10.01", "", ["조선일보"])
    Scope(since=datetime.date(2024, 10, 1), until=None, outlets=('조선일보',), recent=False, reference=None, about=None)
    """
    start, end = check_day(since, "시작일", "--since"), check_day(until, "종료일", "--until")
    if start and end and start > end:
        raise RagError(f"the start day {start} is after the end day {end}.", "시작일이 종료일보다 늦습니다.")
    return Scope(since=start, until=end, outlets=tuple(o for o in outlets if o))


def check_day(text: str | None, korean_name: str, name: str) -> date | None:
    """A day typed by a person (2024-10-01, 2024.10.01, 2024년 10월 1일), None if left empty."""
    if not (text or "").strip():
        return None
    if (day := dates.day(text)) is None:
        raise RagError(f"{name} {text!r} is not a date: write it as 2024-10-01.", f"{korean_name}은 2024-10-01처럼 써 주세요.")
    return day


def standalone(question: str, history: Sequence[Turn], generator: Generator | None = None) -> str:
    """The question made standalone using the conversation so far (standalone questions and
    their answers, newest last)."""
    steps = standalone_steps(question, history, generator)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def standalone_steps(question: str, history: Sequence[Turn], generator: Generator | None = None) -> collections.abc.Generator[str, None, str]:
    """`standalone`, yielding a heartbeat ("") for each piece of the model's rewrite, if it is
    asked for one: the reader may stop between them."""
    if not history:
        return question
    last = history[-1]
    if told := event_of(question, last):
        return told
    if swapped := swap_entity(question, last.question):
        return swapped
    if not needs_context(question):
        return question
    if pointed := point(question, last):
        return pointed
    if generator is not None:
        rewritten = yield from _llm_rewrite(generator, question, last)
        if rewritten:
            return rewritten
    return f"{' '.join(_nouns(last.question))} {question}"


def swap_entity(question: str, previous: str) -> str | None:
    """Put a bare follow-up noun phrase in place of the previous question's leading entity
    (or its time word, when the follow-up is one).

    >>> swap_entity("그럼 브로드컴은?", "엔비디아 주가는 왜 떨어졌어?")
    '브로드컴 주가는 왜 떨어졌어?'
    >>> swap_entity("그럼 작년엔?", "안동 탈춤축제 올해 몇 명 왔어?")
    '안동 탈춤축제 작년 몇 명 왔어?'
    >>> swap_entity("그럼 러브컨은?", "빅터 앰브로스 몇 살이야?")
    '러브컨 몇 살이야?'
    >>> swap_entity("그럼 준우승한 삼성은?", "KIA 배당금 얼마 받아?")
    '준우승한 삼성 배당금 얼마 받아?'
    >>> swap_entity("브로드컴 주가는 왜 올랐어?", "엔비디아 주가는 왜 떨어졌어?") is None
    True
    """
    body = _LEAD.sub("", question).strip().rstrip("?？ ")
    toks = kiwi().tokenize(body)
    if not toks or len(toks) > 6:
        return None
    while toks and toks[-1].tag.startswith("J"):  # trailing particles: 은/는/이/가/도, 에+는
        toks = toks[:-1]
    # a noun phrase, perhaps described first ("준우승한 삼성": 준+우승+하+ᆫ, then the noun)
    described = max((i + 1 for i, t in enumerate(toks) if t.tag == "ETM"), default=0)
    if (not toks[described:] or any(t.tag not in NOUN_TAGS for t in toks[described:])
            or any(t.tag not in _DESCRIBING for t in toks[:described])):
        return None
    entity = body[toks[0].start : toks[-1].end]
    if _TIME.fullmatch(entity) and (when := _TIME.search(previous)):
        return previous[: when.start()] + entity + previous[when.end() :]
    span = _leading_entity(previous)
    return None if span is None else previous[: span[0]] + entity + previous[span[1] :]


def _leading_entity(text: str) -> tuple[int, int] | None:
    """Where the first subject-like noun phrase of the text is ("그록 3", "엔비디아")."""
    toks = kiwi().tokenize(text)
    first = next((i for i, t in enumerate(toks) if t.tag in SUBJECT_TAGS), None)
    if first is None:
        return None
    end = first
    while end + 1 < len(toks) and toks[end + 1].tag in SUBJECT_TAIL_TAGS and (
        toks[end + 1].start == toks[end].end or toks[end].tag == toks[end + 1].tag == "NNP"  # "마크 핼퍼린"
    ):
        end += 1
    return toks[first].start, toks[end].end


def point(question: str, last: Turn) -> str | None:
    """Put what the previous answer named in place of a pointer to it ("그 사람", "거기").

    The answer's first name that its question did not hold is what a follow-up points at:
    "화훙반도체 새 사장 누구야?" -> "펭바이입니다" makes "그 사람 원래 무슨 자리에 있었어?"
    ask about 펭바이. The previous question's words are kept after it, for retrieval.

    >>> point("그 사람 원래 무슨 자리에 있었어?", Turn("화훙반도체 새 사장 누구야?", "화훙반도체 새 사장은 펭바이입니다 [1]."))
    '펭바이 원래 무슨 자리에 있었어? (화훙반도체 사장)'
    >>> point("그 사람 원래 무슨 자리에 있었어?", Turn("화훙반도체 새 사장 누구야?", "SCMP에 따르면 화훙반도체는 펭바이를 사장으로 임명했다 [1]."))
    '펭바이 원래 무슨 자리에 있었어? (화훙반도체 사장)'

    An answer naming nobody new leaves the previous question's subject to point at:
    >>> point("그 사람 어느 대학 교수야?", Turn("씨엘 아빠가 무슨 연구 성공했다며?", "혈당 측정 임상시험에 성공했다 [1]."))
    '씨엘 아빠 어느 대학 교수야? (연구 성공)'
    >>> point("그거 이름이 뭐야?", Turn("머스크가 무엇을 공개한대?", "새 모델을 공개한다 [1].")) is None
    True
    """
    pointer = _POINTER.search(question)
    if not pointer or REFUSAL in last.answer:
        return None
    asked = key(last.question + question)
    # who said it is not what it says: "SCMP에 따르면 화훙반도체는 … 펭바이를 …"
    said = re.sub(r"[^.]*?에 따르면,?\s*", "", strip_markers(last.answer))
    named = [n for n in names(said) if key(n) not in asked]
    if not named and not _THING.fullmatch(pointer.group()):  # "그 사람" may be the subject asked about, "그거" not
        named = _subject_phrase(last.question)
    if not named:
        return None
    nouns = [t.form for t in kiwi().tokenize(last.question) if t.tag in NOUN_TAGS]
    context = " ".join(w for w in nouns if key(w) not in key(named[0]))
    pointed = question[: pointer.start()] + named[0] + question[pointer.end() :]
    return f"{pointed} ({context})" if context else pointed


def _subject_phrase(question: str) -> list[str]:
    """The noun phrase a question opens with when a subject particle follows it ("씨엘 아빠가")."""
    toks = kiwi().tokenize(question)
    n = next((i for i, t in enumerate(toks) if t.tag not in NOUN_TAGS), len(toks))
    return [question[toks[0].start : toks[n - 1].end]] if 0 < n < len(toks) and toks[n].tag in ("JKS", "JX") else []


def names(text: str) -> list[str]:
    """The names of a text, adjacent name tokens joined ("그록 3", "펭바이"), in order.

    >>> names("머스크는 그록 3를 공개했다")
    ['머스크', '그록 3']
    """
    toks = kiwi().tokenize(text)
    out, start, end = [], None, None
    for t in [*toks, None]:
        if t is not None and t.tag in PROPER_TAGS | {"SN"} and (start is not None or t.tag in PROPER_TAGS):
            if start is not None and t.start - end > 1:
                out.append(text[start:end])
                start = None
            start, end = (t.start if start is None else start), t.end
        elif start is not None:
            out.append(text[start:end])
            start = None
    return out


def needs_context(question: str) -> bool:
    """A demonstrative, a leading "그럼", or too few content words to stand alone."""
    content = [t for t in kiwi().tokenize(question) if t.tag in NOUN_TAGS]
    return bool(_REFERS.search(question) or _LEAD.match(question) or len(content) < 2)


_QUESTION = re.compile(r"[?？]|누구|무엇|뭐|언제|어디|어느|얼마|몇|왜|어떻게|어떤|인가|는지|(니|나|까|야|어|지|래|대)\s*$")


def _llm_rewrite(generator: Generator, question: str, last: Turn) -> collections.abc.Generator[str, None, str | None]:
    if REFUSAL in last.answer:
        last = Turn(last.question)  # a refusal says nothing the rewrite can use, and it gets copied
    messages = [
        {"role": "system", "content": REWRITE_PROMPT},
        {"role": "user", "content": f"이전 질문: {last.question}\n이전 답: {last.answer}\n마지막 질문: {question}\n고쳐 쓴 질문:"},
    ]
    pieces = []
    for piece in generator.stream(messages, 48):
        pieces.append(piece)
        yield ""
    text = "".join(pieces).strip().splitlines()
    out = text[0].strip() if text else ""
    # reject echoes, leaked template lines, run-ons that glue both questions together, and
    # garbled or new words ("화iconductor반도체" for "화훙반도체")
    known = key(last.question + last.answer + question)
    if not out or "질문" in out or out.count("?") > 1 or len(out) > 2 * (len(last.question) + len(question)):
        return None
    if REFUSAL[:8] in out or key(out) == key(last.question) or not _QUESTION.search(out):
        return None  # the refusal copied in, the previous question again, or no question at all
    if any(key(t.form) not in known for t in kiwi().tokenize(out) if t.tag in ("NNP", "NNG", "SL") and len(t.form) > 1):
        return None  # only the conversation's words: a new one is a slip ("디시크") or an invention
    if any(key(word) not in key(out) for word in _own_nouns(question)):
        return None  # the person's own words dropped ("시가총액" rewritten as "주가"): another question
    return out


def _own_nouns(question: str) -> list[str]:
    """The nouns a follow-up asks with, but not one a pointer stands for ("그 회사": the rewrite names it).

    >>> _own_nouns("그 회사 창업자는 누구야?")
    ['창업자']
    """
    toks = kiwi().tokenize(question)
    return [t.form for i, t in enumerate(toks) if t.tag in ("NNG", "NNP") and len(t.form) > 1 and not (i and toks[i - 1].tag == "MM")]


def _nouns(text: str) -> list[str]:
    """The proper nouns of a question, or its first common noun if it has none."""
    toks = kiwi().tokenize(text)
    proper = [t.form for t in toks if t.tag in PROPER_TAGS]
    return proper or [t.form for t in toks if t.tag == "NNG"][:1]
