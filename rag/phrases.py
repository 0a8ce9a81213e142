"""Phrases of a sentence that give a kind (kinds.py): names, noun runs, cause clauses, descriptions.

Kiwi's tags make the runs: a name is a run of nouns holding a proper noun ("펭바이(Peng Bai)",
"서울 성동구 한양대병원"); a thing is any noun run; a cause is the clause that ends in a cause
marker, or the noun phrase a noun marker ends ("중국발 딥시크의 저렴한 AI 쇼크"); a description is
the noun set before a name ("중국 AI 스타트업 딥시크"). Every span is (start, end) in the text.
"""
from __future__ import annotations

import re

from .korean import NOUN_TAGS, PHRASE_TAGS, PROPER_TAGS, key, kiwi

# a cause said outright ("딥시크 여파로", "…때문", "…로 인해"), or a purpose ("…을 찍으려고")
CAUSE = re.compile(r"때문|영향|여파|탓|덕분|덕에|덕택|(?:으)?로 인(?:해|한)|원인|이유|요인|배경|계기|빌미|쇼크|충격|우려|에 따른|에 따라|"
                   r"결과|효과|위해|위한|려고|려는|목적")
# how surely a marker gives a cause: "…때문", "…여파로" say it outright; "…하면서", "…위해" in passing
# (or a purpose); "…로" and a serial verb ("터져") often mean something else ("단지로": as)
STRONG_CAUSE = re.compile(r"때문|영향|여파|탓|덕분|덕에|덕택|인해|인한|원인|이유|요인|배경|계기|빌미|쇼크|충격|우려|따른|따라")
# a cause in passing: "…에서 패소하면서 … 신청했다", "물탱크가 터져 …", "폭염으로 생산량이 …"
IN_PASSING = re.compile(r"면서|하자|되자|는 데다|(?<=[가-힣])(?:아|어|해|져|러)서?\s|(?<=[가-힣]{2})(?:으)?로\s(?!인(?:해|한))")
# what only names a cause ("원인을 조사할 방침", "이유는 밝혀지지 않았다") or points back ("이에 따라")
NO_CAUSE = re.compile(r"(원인|이유|경위)(을|를|은|는)?\s?(조사|파악|규명|확인|밝혀지지|알려지지|분석 중)|^\s*(이에|이로써|이와)\s")
TITLE = re.compile(r"['‘\"“《<「『]([^'’\"”》>」』]{1,30})['’\"”》>」』]")  # a quoted title: 'A 모델', “B”


def names(text: str, quoted: bool = True) -> list[tuple[int, int]]:
    """Proper-noun runs (with the nouns glued to them: "김선"+"빈"), runs a space apart joined
    ("서울 성동구 한양대병원"), a romanized name in brackets kept ("펭바이(Peng Bai)"), and quoted titles.

    >>> t = "화훙반도체는 펭바이(Peng Bai) 전 인텔 부사장을 새 사장으로 임명했다."
    >>> [t[s:e] for s, e in names(t)]
    ['화훙반도체', '펭바이(Peng Bai)', '인텔']
    >>> t = "샤오미는 첫 AI 추론모델 '미모(MiMo)'를 공개했다. 영예는 김선빈에게 돌아갔다."
    >>> [t[s:e] for s, e in names(t)]
    ['샤오미', 'AI', '미모(MiMo)', 'MiMo', '김선빈']
    """
    toks = kiwi().tokenize(text)
    runs: list[list] = []
    for t in toks:
        if t.tag in NOUN_TAGS:
            if runs and runs[-1] and runs[-1][-1].end == t.start:
                runs[-1].append(t)
                continue
            runs.append([t])
        else:
            runs.append([])
    runs = [r for r in runs if r and any(t.tag in PROPER_TAGS for t in r)]
    spans: list[tuple[int, int]] = []
    for r in runs:
        start, end = r[0].start, r[-1].end
        if spans and start < spans[-1][1]:
            continue  # inside the brackets of the name before
        if spans and text[spans[-1][1] : start] == " ":  # both runs hold a proper noun
            spans[-1] = (spans[-1][0], end)  # "다론 아제모을루", "서울 성동구"
            continue
        if m := re.match(r"\([A-Za-z][A-Za-z .\-]{1,40}\)", text[end:]):
            end += m.end()
        spans.append((start, end))
    spans = [(a, b) for a, b in spans if len(text[a:b]) > 1]  # "쓴" read as a name is none
    titles = [(m.start(1), m.end(1)) for m in TITLE.finditer(text)] if quoted else []
    return sorted(set(spans + titles), key=lambda s: (s[0], -s[1]))


def nouns(text: str) -> list[tuple[int, int]]:
    """Noun runs (adjacent nouns joined: "추론모델", "대규모 언어모델" stays two) and quoted titles: what a
    "무엇" question is answered by.

    >>> t = "딥시크는 지난해 말 대규모 언어모델(LLM)인 V3를 공개했다."
    >>> [t[a:b] for a, b in nouns(t)]
    ['딥시크', '지난해', '대규모', '언어모델(LLM)', 'V3']
    """
    toks = kiwi().tokenize(text)
    out: list[list] = []
    for i, t in enumerate(toks):
        verbal = i + 1 < len(toks) and toks[i + 1].tag in ("XSV", "XSA")  # "공개" of 공개했다 is no thing
        if t.tag in NOUN_TAGS | {"XPN"} and not verbal and out and out[-1] and out[-1][-1].end == t.start:
            out[-1].append(t)
        else:
            out.append([t] if t.tag in NOUN_TAGS | {"XPN"} and not verbal else [])
    spans: list[tuple[int, int]] = []
    for run in (r for r in out if r):
        start, end = run[0].start, run[-1].end
        if spans and start < spans[-1][1]:
            continue  # inside the brackets of the noun before
        if m := re.match(r"\([A-Za-z][A-Za-z .\-]{1,40}\)", text[end:]):
            end += m.end()
        spans.append((start, end))
    titles = [(m.start(1), m.end(1)) for m in TITLE.finditer(text)]
    return sorted(set(spans + titles), key=lambda s: (s[0], -s[1]))


def causes(text: str) -> list[tuple[int, int]]:
    """The clauses of a sentence that end in a cause marker, with the marker ("딥시크 쇼크 여파로").

    >>> t = "하락폭에 비해 반등폭이 미미해 중국발 딥시크의 저렴한 AI 쇼크로부터 회복되지 못한 모습이다."
    >>> [t[s:e] for s, e in causes(t)]
    ['중국발 딥시크의 저렴한 AI 쇼크']
    >>> t = "올해 폭염으로 감귤 생산량이 줄었다."
    >>> [t[s:e] for s, e in causes(t)]
    ['올해 폭염으로']
    """
    if NO_CAUSE.search(text):
        return []
    toks = kiwi().tokenize(text)
    endings = {t.end for t in toks if t.tag in ("EC", "JKB")}  # "터져 ", "폭염으로 ": a verb's or a noun's ending, not "달러 "
    starts = {t.start for t in toks}  # a marker is a word of its own: "원인", not the "원인" of "법원인"
    marks = [*(m for m in CAUSE.finditer(text) if m.start() in starts or not text[m.start()].isalpha()),
             *(m for m in IN_PASSING.finditer(text) if not _SERIAL.search(m.group()))]
    if not marks:  # "물탱크가 터져 정전이 났다": a serial verb is the cause only when nothing else is
        marks = [m for m in IN_PASSING.finditer(text) if len(text[: m.end()].rstrip()) in endings]
    ends = sorted({(_marker_end(text, m.end()), m.start(), m.end()) for m in marks})
    out, last = [], 0
    for end, at, noun_end in ends:
        start = max(_clause_start(text, at, toks), last)
        if _NOUN_MARKER.fullmatch(text[at:noun_end]):
            end = noun_end  # a noun: "… 여파로", "… 여파다" end at it
            if (phrase := _noun_phrase(text, toks, at)) is not None and phrase >= start:
                start = phrase  # "중국발 딥시크의 저렴한 AI 쇼크", not the clauses before it
            elif out and not text[out[-1][1] : at].strip():
                start = out.pop()[0]  # "딥시크 쇼크 여파": one cause named twice
        start += len(text[start:at]) - len(text[start:at].lstrip())
        if end - start >= 3 and (not out or out[-1][1] != end) and not _POINTS_BACK.match(text[start:end]):
            out.append((start, end))
        last = max(last, end)
    return out


# markers that are nouns: the cause is the noun phrase they end ("… AI 쇼크", "폭염 영향")
_NOUN_MARKER = re.compile(r"영향|여파|쇼크|충격|우려|원인|배경|계기|결과|효과|탓|덕분")


def _noun_phrase(text: str, toks, at: int) -> int | None:
    """Where the noun phrase ending right before `at` begins, if it has two words or more."""
    inside = [t for t in toks if t.end <= at]
    start, words = None, 0
    for t in reversed(inside):
        if t.tag not in PHRASE_TAGS:
            break
        start = t.start
        words += t.tag in ("NNG", "NNP", "SL", "XR")
    return start if words >= 2 else None


# weak markers: a serial verb ("터져"), "…로" ("단지로": as, "방식으로": by); a cause only when nothing else is
_SERIAL = re.compile(r"(?:아|어|해|져|러)서?\s$|로\s$")
# a clause that points back ("이 사고로", "이번 일로"): its cause was told before, not in it
_POINTS_BACK = re.compile(r"^(?:이|그|이번|이런|이같은|이 같은)\s")


def _marker_end(text: str, at: int) -> int:
    """The end of the marker's word ("여파"+"로", "쇼크"+"로부터", "때문"+"에")."""
    at = len(text[:at].rstrip())
    m = re.match(r"[가-힣]*", text[at:])
    return at + m.end()


# where a clause begins: after a comma, a clause ending ("…했고", "…지만"), a quote mark; not after
# a quoted "…다고" (what was said is inside the clause: "관세를 부과하겠다고 언급하면서")
_BOUNDARY = re.compile(r"[,·;:]\s|따르면\s|(?<=[가-힣])(?:며|지만|는데|으나|면서|해서|했으며|이며)\s|(?<=[가-힣])(?:하고|했고|되고)\s(?!있)|(?<=다)\.\s|\"|“|”")


def _clause_start(text: str, at: int, toks=()) -> int:
    """Where the clause holding `at` begins: after the last comma, clause ending or topic ("X는")
    before it."""
    starts = [m.end() for m in _BOUNDARY.finditer(text, 0, at)] + [t.end for t in toks if t.tag == "JX" and t.form in ("은", "는") and t.end < at]
    starts.sort()
    start = starts[-1] if starts else 0
    return start + len(text[start:at]) - len(text[start:at].lstrip())


def descriptions(text: str, subjects: frozenset[str]) -> list[tuple[int, int]]:
    """The noun set right before a subject's name ("중국 AI 스타트업 딥시크").

    >>> t = "중국 AI 스타트업 딥시크가 R1을 공개했다."
    >>> [t[s:e] for s, e in descriptions(t, frozenset({"딥시크"}))]
    ['중국 AI 스타트업']
    """
    toks = kiwi().tokenize(text)
    out = []
    for i, t in enumerate(toks):
        if key(t.form) in subjects or any(key(text[t.start : t.end]) == s for s in subjects):
            j = i
            while j > 0 and toks[j - 1].tag in NOUN_TAGS and t.start - toks[j - 1].end <= 20:
                j -= 1
            if j < i:
                out.append((toks[j].start, toks[i - 1].end))
    return out


