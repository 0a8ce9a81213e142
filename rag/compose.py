"""The answer's text, written by the code around the chosen value; never by the model.

The first sentence states the value where the question asked for it, in the question's own
words: "올해 의대 수시 몇 명 지원했대?" → "올해 의대 수시 300명 지원했습니다 [1].", "엔비디아 주가는
왜 떨어졌어?" → "엔비디아 주가는 중국발 딥시크의 저렴한 AI 쇼크로부터 떨어졌습니다"... no: a cause is
said with its own marker ("…여파로", "…때문에"). The sentence the value came from follows, quoted
with the same citation, so every answer can be checked against its source word for word. When
the question's shape cannot carry the value (two question words, no predicate the code can
conjugate), the first sentence is the value alone ("300명입니다 [1]."); a sentence-answer is the
quoted sentence alone.
"""
from __future__ import annotations

import re

from .asked import WH, Asked
from .extract import Value
from .korean import kiwi
from .types import Citation, Evidence

# question words followed by the noun the value takes the place of too ("몇 명", "어느 동물원")
_FOLLOWED = {"몇", "어떤", "어느", "무슨"}  # their noun goes with them: "몇 명", "어느 동물원"


MARKER = re.compile(r"\s*\[(\d+(?:\s*[,，]\s*\d+)*)\]")


def strip_markers(text: str) -> str:
    """
    >>> strip_markers("딥시크 충격 때문입니다 [1].")
    '딥시크 충격 때문입니다.'
    """
    return MARKER.sub("", text).strip()


def citation(e: Evidence) -> Citation:
    """The citation of an evidence sentence (or headline), numbered 1: an answer rests on one."""
    if e.headline:
        return Citation(1, e.article, e.article.title, e.chunk, 0, 0, headline=True)
    text = e.article.text
    start = e.start + len(text[e.start : e.end]) - len(text[e.start : e.end].lstrip())
    return Citation(1, e.article, e.text, e.chunk, start, start + len(e.text))


def answer_text(asked: Asked, value: Value) -> str:
    """The first sentence stating the value, then the sentence it came from, both cited [1].

    >>> from rag.asked import parse
    >>> from rag.types import Article
    >>> a = Article("a", "t", "올해 수시 모집인원 1200명인데 지원자 300명뿐이었다.", "s")
    >>> e = Evidence(a, 0, len(a.text))
    >>> answer_text(parse("올해 의대 수시 몇 명 지원했대?"), Value("300명", e, 22, 26))
    '올해 의대 수시 300명 지원했습니다 [1]. “올해 수시 모집인원 1200명인데 지원자 300명뿐이었다.” [1]'
    """
    quote = quoted(value.evidence.text)
    frame = asked.kind.frame if asked.kind else "sentence"
    if frame == "sentence" or value.text == value.evidence.text:
        return f"{quote[:-1]} [1]{quote[-1]}"
    first = statement(asked, value.text) or f"{value.text}{_copula(value.text, False)}."
    return f"{first[:-1]} [1]{first[-1]} “{quote}” [1]"


def quoted(sentence: str) -> str:
    """A sentence as an answer says it: a leading photo-caption source or outlet tag cut off, a
    full stop at the end.

    >>> quoted("/연합뉴스 엔비디아 주가가 17% 떨어졌다"), quoted("[더지엠뉴스] 중국 AI 스타트업 딥시크가 …")
    ('엔비디아 주가가 17% 떨어졌다.', '중국 AI 스타트업 딥시크가 ….')
    """
    text = re.sub(r"^(/\S+|\[[^\]\s]{1,20}\])\s*", "", sentence.strip())
    return text if re.search(r"[.!?。\"'”’]$", text) else text + "."


def statement(asked: Asked, value: str) -> str | None:
    """The question turned into the sentence that answers it, the value in the question word's place.

    >>> from rag.asked import parse
    >>> statement(parse("엔비디아 시가총액 하루에 얼마나 날아갔어?"), "5,930억달러")
    '엔비디아 시가총액 하루에 5,930억달러 날아갔습니다.'
    >>> statement(parse("샤오미가 공개한 AI 추론모델 이름 뭐야?"), "미모(MiMo)")
    '샤오미가 공개한 AI 추론모델 이름은 미모(MiMo)입니다.'
    >>> statement(parse("화훙반도체 새 사장 누구야?"), "펭바이")
    '화훙반도체 새 사장은 펭바이입니다.'
    >>> statement(parse("엑스AI 기업 가치 얼마로 평가돼?"), "750억 달러")
    '엑스AI 기업 가치 750억 달러로 평가됩니다.'
    >>> statement(parse("불꽃축제 어디서 열려?"), "여의도")
    '불꽃축제 여의도에서 열립니다.'
    >>> statement(parse("엔비디아 주가는 왜 떨어졌어?"), "딥시크 쇼크 여파로")
    '엔비디아 주가는 딥시크 쇼크 여파로 떨어졌습니다.'
    >>> statement(parse("헌재소장 권한대행 누가 됐어?"), "문형배")
    '헌재소장 권한대행 문형배가 됐습니다.'
    >>> statement(parse("그록 3는 누가 언제 공개해?"), "머스크") is None  # a second question word stays unanswered
    True
    """
    # the question without its period's words (the answer says when under it), and a translated
    # question's name as the person wrote it, not the model's Hangul guess ("네이비드(Nvidia)")
    question = re.sub(r"[가-힣]+\(([A-Za-z][^)]*)\)", r"\1", re.sub(r"[?？!.~\s]+$", "", asked.topic.strip()))
    toks = [t for t in kiwi().tokenize(question + "?") if t.tag != "SF"]  # a question mark makes its ending read as one
    wh = [i for i, t in enumerate(toks) if t.form in WH and t.tag in ("NP", "MAG", "MM", "NNG", "NR", "IC")]
    if len(wh) != 1 or not toks or toks[-1].tag not in ("EF", "EC"):
        return None
    i = wh[0]
    end = i + 1
    if toks[i].form in _FOLLOWED and end < len(toks) and toks[end].tag in ("NNB", "NNG", "NNP", "SL"):
        end += 1  # "몇 명", "어느 동물원"
    if toks[i].form == "왜":
        value = _adverbial(value)
    before = question[: toks[i].start]
    rest = toks[end:]
    particle = rest[0] if rest and rest[0].tag.startswith("J") else None
    if particle is not None:
        rest = rest[1:]
    if rest and (rest[0].tag == "VCP" or [t.tag for t in rest] == ["EF"]):  # "… 뭐야", "… 머야", "… 누구였어": what the topic is
        past = any(t.tag == "EP" for t in rest)
        return f"{_topic(before)}{value}{_copula(value, past)}."
    said = value + (_particle(value, particle.form) if particle else "")
    if not rest:
        return None
    after = question[rest[0].start : toks[-1].start] if len(rest) > 1 else ""
    polite = _polite(question[rest[0].start :], [t for t in rest])
    if polite is None:
        return None
    return f"{before}{said} {polite}.".replace("  ", " ") if not after else f"{before}{said} {polite}.".replace("  ", " ")


def _polite(words: str, toks) -> str | None:
    """The predicate with a polite declarative ending: "날아갔어" → "날아갔습니다", "거야" → "것입니다"."""
    last_space = words.rfind(" ")
    head, tail = (words[: last_space + 1], words[last_space + 1 :]) if last_space >= 0 else ("", words)
    offset = toks[0].start + len(head)
    morphs = [(("것" if t.form == "거" and t.tag == "NNB" else t.form), t.tag) for t in toks if t.start >= offset]
    if not morphs or morphs[-1][1] not in ("EF", "EC"):
        return None
    return head + kiwi().join(morphs[:-1] + [("습니다", "EF")])


def _topic(before: str) -> str:
    """The words before the question word, marked as the topic ("이름" → "이름은")."""
    text = before.rstrip()
    if not text:
        return ""
    last = kiwi().tokenize(text)[-1]
    if last.tag.startswith("J") or last.tag.startswith("E"):
        return text + " "
    return text + ("은 " if _batchim(text) else "는 ")


def _copula(value: str, past: bool) -> str:
    if past:
        return "이었습니다" if _batchim(value) else "였습니다"
    return "입니다"


def _particle(value: str, particle: str) -> str:
    """The question word's particle, fitted to the value ("누가" → "문형배가", "어디서" → "여의도에서")."""
    has = _batchim(value)
    fitted = {"가": "이" if has else "가", "이": "이" if has else "가", "는": "은" if has else "는", "은": "은" if has else "는",
              "를": "을" if has else "를", "을": "을" if has else "를", "로": "으로" if has and not _rieul(value) else "로",
              "으로": "으로" if has and not _rieul(value) else "로", "서": "에서"}
    return fitted.get(particle, particle)


def _adverbial(clause: str) -> str:
    """A cause clause said before a predicate: "… 때문이다" → "… 때문에", "… 쇼크" → "… 쇼크로"."""
    clause = re.sub(r"때문(?:이다|이라고|이라는|이라며|이란|이)?$", "때문에", clause)
    clause = re.sub(r"(?:로|으로) 인한$", "로 인해", clause)
    clause = re.sub(r"에 따른$", "에 따라", clause)
    if re.search(r"(?:영향|여파|쇼크|충격|우려|원인|결과|효과|계기|배경)$", clause):
        clause += "으로" if _batchim(clause) and not _rieul(clause) else "로"
    return clause


def _batchim(text: str) -> bool:
    """The last sound of the text has a final consonant ("명" yes, "러" no; "3" is 삼: yes)."""
    for ch in reversed(text):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 != 0
        if ch.isdigit():
            return ch in "0136780"  # 영 일 삼 육 칠 팔 (영: yes)
        if ch.isalpha():
            return ch.lower() in "lmn"
    return False


def _rieul(text: str) -> bool:
    for ch in reversed(text):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 == 8
        if ch.isdigit():
            return ch in "178"  # 일 칠 팔
    return False
