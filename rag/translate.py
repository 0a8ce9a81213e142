"""A question in another language, asked in Korean first: the answer stage reads Korean.

The model translates a short question in about a second; the question's kind, subject and
predicate are then parsed from Korean (asked.py), and the answer is composed in Korean around
a value of the Korean articles. Names are where a translation fails ("Nvidia" came back
"네이비드", and the product's own question then found another article's cause): the name as
written is kept in brackets beside the model's Hangul, and `respell` puts the articles' own
spelling in place of a Hangul name they never use, the word of the articles found by meaning
that sounds the same (엔비디아 for Nvidia: both "nbd" in consonants).
"""
from __future__ import annotations

import collections.abc
import difflib
import re

from .asked import foreign
from .generate import Generator

TRANSLATE_PROMPT = """외국어로 된 질문을 한국 신문 독자가 물을 법한 자연스러운 한국어 질문 한 문장으로 옮기세요.
이름은 한국 신문이 쓰는 한글 표기로 쓰고 원래 이름을 괄호 안에 남기세요. 옮긴 질문만 출력하세요."""
TRANSLATE_EXAMPLES = (  # one per kind of question: the model copies the example's Korean ending
    ("Why did Tesla shares jump?", "테슬라(Tesla) 주가는 왜 올랐어?"),
    ("How many people visited the Andong mask festival?", "안동(Andong) 탈춤축제에 몇 명이 왔어?"),
    ("Who became the new chief executive of Samsung Electronics?", "삼성전자(Samsung Electronics) 새 대표는 누구야?"),
    ("Where did Hyundai build its new battery plant?", "현대차(Hyundai)는 새 배터리 공장을 어디에 지었어?"),
    ("How much did the city spend on the new bridge?", "시가 새 다리에 쓴 돈은 얼마야?"),
    ("What share of voters support the plan?", "그 계획을 지지하는 유권자는 몇 %야?"),
    ("When will the new subway line open?", "새 지하철 노선은 언제 개통해?"),
    ("What did the researchers find?", "연구진이 찾아낸 것은 뭐야?"),
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
    return LEFT_AS_WRITTEN.sub(r"\1", out)


# a name the model left in Chinese or Japanese script beside its Latin form ("英伟达(NVIDIA)"): the
# Latin is kept, which retrieval by meaning finds and a Korean reader reads
LEFT_AS_WRITTEN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+\s*\(([A-Za-z][^)]*)\)")


# a Hangul name beside the Latin one it stands for: "네이비드(Nvidia)"
BRACKETED = re.compile(r"([가-힣]+)\s*\(([A-Za-z][A-Za-z .&'-]*)\)")


def respell(question: str, articles: str) -> str:
    """Each Hangul name written beside a Latin one in brackets, when the articles never use it,
    replaced by the articles' word that sounds the same (the same consonants, then the nearest
    romanization); left as it is when none does.

    >>> respell("네이비드(Nvidia) 주가는 왜 내려갔어?", "전 날 17% 폭락한 엔비디아는 1.4% 반등했다.")
    '엔비디아(Nvidia) 주가는 왜 내려갔어?'
    >>> respell("테슬라(Tesla) 주가는?", "테슬라 주가가 올랐다."), respell("애프(Apple) 주가는?", "주가가 올랐다.")
    ('테슬라(Tesla) 주가는?', '애프(Apple) 주가는?')
    """
    words = {w[:n] for w in re.findall(r"[가-힣]{2,}", articles) for n in range(2, len(w) + 1)}

    def spelled(m: re.Match) -> str:
        hangul, latin = m.groups()
        if hangul in words:
            return m.group(0)
        target = latin.lower().replace(" ", "")
        same = [w for w in words if consonants(romanized(w)) == consonants(target)]
        if not same or len(consonants(target)) < 2:
            return m.group(0)
        best = max(same, key=lambda w: (difflib.SequenceMatcher(None, romanized(w), target).ratio(), len(w)))
        return m.group(0).replace(hangul, best, 1)

    return BRACKETED.sub(spelled, question)


def consonants(latin: str) -> str:
    """The consonant skeleton a Latin name and its Hangul spelling share, doubled letters once:
    Nvidia and enbidia are "nbd", Tesla and teseulla "tsl".

    >>> consonants("nvidia"), consonants("enbidia"), consonants("deepseek"), consonants("dipsikeu")
    ('nbd', 'nbd', 'dpsk', 'dpsk')
    """
    out = ""
    for c in latin.lower().translate(SOUNDS):
        if c.isalpha() and c not in "aeiouyw" and not out.endswith(c):
            out += c
    return out


SOUNDS = str.maketrans({"v": "b", "f": "p", "x": "s", "c": "k", "q": "k", "z": "j", "r": "l", "g": "k", "h": ""})
INITIALS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
MEDIALS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
FINALS = "- k k k n n n t l k m p l l p l m p p t t ng t t k t p t".split()


def romanized(hangul: str) -> str:
    """The Revised Romanization of Hangul syllables, letter by letter (no sound changes across them).

    >>> romanized("엔비디아"), romanized("테슬라")
    ('enbidia', 'teseulra')
    """
    out = []
    for ch in hangul:
        n = ord(ch) - 0xAC00
        if not 0 <= n < 11172:
            out.append(ch)
            continue
        initial, medial, final = INITIALS[n // 588], MEDIALS[n % 588 // 28], FINALS[n % 28]
        out.append(initial.strip("-") + medial + final.strip("-"))
    return "".join(out)
