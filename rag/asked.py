"""The question, parsed once: what it asks for, about whom, with which predicate, in which period.

Every stage after the standalone rewrite reads this one object: retrieval its words and period,
the evidence its kind, subjects and predicate, extraction its kind, composing the place in the
question where the answer goes. A question in another language is translated first (question.py),
so the parse is of Korean.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .kinds import Kind, kind_of, spans
from .korean import CONTENT_TAGS, key, kiwi, tokens
from .period import Period, without_time
from .phrases import CAUSE
from .period import find as find_period
from .subject import question_subjects

# News says 하락 where a person asks 떨어졌어: a question's predicate is matched by meaning.
_MEANINGS = {
    "down": "떨어지 하락 급락 폭락 내리 내려가 줄 감소 빠지 추락 약세 줄어들 낮아지 꺾이 위축 손실 적자 붕괴 밀리 날아가 증발 곤두박질",
    "up": "오르 상승 급등 폭등 늘 증가 뛰 올리 강세 치솟 높아지 확대 늘어나 반등 흑자 최고",
    "appoint": "선임 임명 발탁 내정 지명 취임 선출 뽑 제청 당선 맡",
    "release": "공개 발표 출시 선보이 내놓 공표 개발 출범",
    "ban": "금지 차단 제한 중단 막 규제",
    "arrest": "체포 구속 검거 기소 송치 입건 수사 압수수색",
    "die": "숨지 사망 별세 타계 죽 희생",
    "court": "선고 징역 판결 형량 집행유예 벌금 무죄 유죄 구형",
}
MEANING = {word: meaning for meaning, words in _MEANINGS.items() for word in words.split()}
OPPOSITE = {"down": "up", "up": "down"}


@dataclass(frozen=True)
class Asked:
    """A question as every stage reads it.

    `words` are its content words with the period's words taken out (the period is a filter:
    "10월 25일" would only pull in other days' "25일"); `topic` is the question without them;
    `predicate` the stem of its last verb or adjective ("떨어지", "지원"), `meanings` what its
    words mean ("down" for 떨어졌어)."""

    text: str
    topic: str
    words: tuple[str, ...]
    kind: Kind | None
    subjects: frozenset[str]
    predicate: str | None
    meanings: frozenset[str]
    period: Period | None = None
    focus: str | None = None  # the thing asked about, as a key: "입장료" in "탈춤축제 입장료 얼마였어?"

    @property
    def key(self) -> str:
        return key(self.text)

    @property
    def kind_name(self) -> str | None:
        return self.kind.name if self.kind else None

    def answers_in(self, text: str) -> list[tuple[int, int]]:
        """The spans of the text giving the asked kind (kinds.spans), but none the question itself
        holds ("60대" in "60대 인구 몇 명이야?") and no cause clause that restates what is asked.

        >>> t = "엔비디아는 전 날 하락으로 시가총액이 줄었다. 딥시크 쇼크 여파다."
        >>> [t[a:b] for a, b in parse("엔비디아 주가는 왜 떨어졌어?").answers_in(t)]
        ['딥시크 쇼크 여파']
        """
        found = spans(self.kind, text, self.subjects)
        return [(a, b) for a, b in found if key(text[a:b].strip(" ,.'\"‘’“”")) not in self.key
                and not (self.kind_name == "cause" and self.restates(text[a:b]))]

    def restates(self, clause: str) -> bool:
        """The clause's head (its last content word) is what the question asks about, not its cause:
        "전 날 하락으로" for why a share fell.

        >>> a = parse("엔비디아 주가는 왜 떨어졌어?")
        >>> a.restates("전 날 하락으로"), a.restates("딥시크 쇼크")
        (True, False)
        """
        heads = [t.form.lower() for t in kiwi().tokenize(clause) if t.tag.split("-")[0] in CONTENT_TAGS]
        heads = [h for h in heads if not CAUSE.fullmatch(h)]
        return bool(heads) and (heads[-1] in self.words or MEANING.get(heads[-1]) in self.meanings)

    def opposite(self, sentence: str) -> bool:
        """The sentence's main predicate says the opposite of what the question asks about.

        >>> parse("오라클 시가총액 얼마나 줄었어?").opposite("폭락했던 오라클은 2% 올랐다.")
        True
        >>> parse("엔비디아 주가는 왜 떨어졌어?").opposite("하락폭에 비해 반등폭이 미미해 딥시크 쇼크로부터 회복되지 못한 모습을 보이고 있다.")
        False
        """
        return main_meaning(sentence) in {OPPOSITE.get(m) for m in self.meanings} - {None}


def parse(question: str, asked: str | None = None, reference: date | None = None) -> Asked:
    """The standalone question parsed; `asked` is what the person typed, when the question is its
    rewrite (the period may be named in either); `reference` the day relative words count from.

    >>> a = parse("엔비디아 주가는 왜 떨어졌어?")
    >>> a.kind_name, a.words, sorted(a.subjects), a.predicate, sorted(a.meanings)
    ('cause', ('엔비디아', '주가', '떨어지'), ['엔비디아'], '떨어지', ['down'])
    >>> a = parse("10월 25일 코스피 얼마야?", reference=date(2024, 10, 30))
    >>> a.period.label, a.words
    ('2024-10-25', ('코스피', '얼마'))
    """
    period = None
    if reference is not None:
        period = find_period(asked or question, reference) or find_period(question, reference)
    topic = without_time(question, period)
    words = tuple(tokens(topic) or tokens(question))
    return Asked(question, topic, words, kind_of(question), frozenset(question_subjects(question)), predicate(question),
                 frozenset(MEANING[w] for w in words if w in MEANING), period, focus(topic))


# question words, and the nouns too general to be what is asked about ("이름" in "교수 이름 뭐야?")
WH = {"얼마", "얼마나", "몇", "누구", "언제", "어디", "뭐", "머", "무엇", "무얼", "뭘", "왜", "어떤", "어느", "무슨", "며칠", "어째서", "어떻게"}
_GENERAL = {"이름", "정도", "수", "규모", "것", "거", "데", "하루", "때", "날", "번", "총", "전체", "기준", "정확", "처음", "당시", "지금",
            "사람", "회사", "기업", "곳", "쪽", "분", "이번", "나이", "제목", "작가", "선수", "인물", "단체", "나라", "지역",
            "작년", "올해", "지난해", "내년", "오늘", "어제", "내일", "최근", "요즘", "다음", "지난", "이번", "당초", "현재"}


def focus(question: str) -> str | None:
    """The noun run right before the question word, past words too general to be asked about: what
    a value's sentence must speak of ("탈춤축제 입장료 얼마였어?" is not answered by a sentence on its
    food prices).

    >>> focus("안동 탈춤축제 입장료 얼마였어?"), focus("씨엘 아빠 교수 이름 머야"), focus("오픈AI 기업가치 얼마야?")
    ('입장료', '교수', '기업가치')
    >>> focus("몇 명 지원했어?") is None
    True
    """
    toks = kiwi().tokenize(question + "?")
    at = next((i for i, t in enumerate(toks) if t.form in WH and t.tag in ("NP", "MAG", "MM", "NNG", "NR", "IC")), None)
    runs, run = [], []
    for t in toks[: at or 0]:
        if t.tag in ("NNG", "NNP", "SL") and (not run or run[-1].end == t.start):
            run.append(t)
        elif t.tag in ("NNG", "NNP", "SL"):
            runs.append(run)
            run = [t]
        elif run:
            runs.append(run)
            run = []
    runs.append(run)
    for run in reversed([r for r in runs if r]):
        text = question[run[0].start : run[-1].end]
        if text not in _GENERAL and len(text) > 1:
            return key(text)
    return None


def predicate(text: str) -> str | None:
    """The stem of the text's last predicate: a verb, an adjective, or a noun made one with 하다/되다.

    >>> predicate("올해 의대 수시 몇 명 지원했대?"), predicate("엔비디아 주가는 왜 떨어졌어?"), predicate("딥시크는 어떤 회사야?")
    ('지원', '떨어지', None)
    """
    toks = kiwi().tokenize(text)
    found = [t.form for i, t in enumerate(toks) if t.tag in ("VV", "VA")
             or (t.tag == "NNG" and i + 1 < len(toks) and toks[i + 1].tag in ("XSV", "XSA"))]
    return found[-1] if found else None


def main_meaning(sentence: str) -> str | None:
    """The meaning of the sentence's last predicate: the main predicate comes last, and a noun in
    a clause before it ("반등폭이 미미해") is not what the sentence says. A sentence without one
    (a headline: "17% 하락 마감") is read by its last word with a meaning."""
    stem = predicate(sentence)
    if stem is not None:
        return MEANING.get(stem)
    said = [MEANING[w] for w in tokens(sentence) if w in MEANING]
    return said[-1] if said else None


def foreign(question: str) -> bool:
    """A question with no Hangul but letters: it is asked in Korean first (question.korean_steps).

    >>> foreign("Why did Nvidia stock fall?"), foreign("英伟达股价为什么下跌？"), foreign("DeepSeek R1 언제 공개됐어?")
    (True, True, False)
    """
    return not re.search(r"[가-힣]", question) and bool(re.search(r"[^\W\d_]{2}", question))
