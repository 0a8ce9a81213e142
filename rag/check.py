"""Checks on a reply as a whole: does it give what was asked, and is it going round in circles.

Citations check each sentence against the sources (`cite.py`); these check the reply against
the question and against itself. A small model asked a detail the articles lack ("펭바이 나이
몇 살이야?") answers with a nearby sentence ("30년 이상 근무한 베테랑"), which the citation
check passes: every word is in the source. What the question asks for (an age, an amount, a
day, a person) must be in the answer, or it does not answer.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .korean import kiwi

# (what the question asks, how an answer gives it); the first that matches the question decides
ASKS = (
    # a sentence or a ruling: court news is much of a paper's society pages ("형량 뭐였어?", "재판 결과는?")
    ("verdict", re.compile(r"형량|구형|(선고|재판|판결|1심|2심|항소심|상고심)\s?(결과|형|은|는)?\s?(뭐|어떻게|어땠|나왔)"),
     re.compile(r"징역|금고|집행유예|벌금|무죄|유죄|실형|사형|무기|선고유예|공소\s?기각|기각|인용|면소")),
    ("age", re.compile(r"몇\s?살|나이|(?i:how old)"), re.compile(r"\d+\s*(살|세)")),
    ("when", re.compile(r"언제|며칠|몇\s?(월|일|년|시)|(?i:\bwhen\b|what date)"),
     re.compile(r"\d+\s*(년|월|일|시|분기|주)|\d{4}|어제|오늘|내일|작년|지난해|올해|내년|지난달|이번\s?달|지난주|이번\s?주|"
                r"주말|연말|연초|현지시간|이날|당일|(?:월|년)\s?(초|말|중순)")),
    # a share, a sum of money, a count, a size: the unit says which ("입장료 얼마?" is not "148만여 명")
    ("percent", re.compile(r"퍼센트|몇\s?(%|퍼|프로)|비율|(?i:percent)"), re.compile(r"%|퍼센트|프로")),
    # "값 얼마나 올랐어?" asks how much it changed: a percent answers it too
    ("money", re.compile(r"(매출|가격|금액|예산|상금|배당금|비용|값|연봉|입장료|요금|기업\s?가치|시가총액|돈|빚|채무)[^?]{0,12}(얼마|몇)(?!나\s?"
                         r"(올|오르|내렸|내려|떨어|줄|늘|빠|뛰|상승|하락|증가|감소|급등|급락|폭등|폭락))|"
                         r"(얼마|몇)\s?(원|달러)"),
     # "52억5000만" is money in a money question, "148만여 명" is not
     re.compile(r"원|달러|엔|위안|유로|\$|\d\s*(조|억|만)(?![\d\s]*(여\s?)?(명|개|곳|대|건|회|번|마리|주))")),
    ("count", re.compile(r"몇\s?(명|개|곳|대|건|회|번|편|골|표|마리|부|권)"),
     re.compile(r"\d[\d,.만천백억조\s]*(여\s?)?(명|개|곳|대|건|회|번|편|골|표|마리|부|권)|절반|[한두세네]\s?(명|곳|개|번|마리|권)")),
    ("size", re.compile(r"몇\s?(센티|cm|킬로|kg|미터|톤|그램)|몸무게|크기|길이|높이"),
     re.compile(r"\d\s*(cm|센티|mm|밀리|m|미터|km|킬로|kg|톤|g\b|그램)")),
    ("amount", re.compile(r"얼마|몇|(?i:how (much|many))"),
     re.compile(r"\d|절반|[한두세네]\s?(명|곳|개|번|배|차례)|수(십|백|천|만)|(십|백|천|만|억|조)\s?(원|명|달러|개|건|대)")),
)


# a cause clause, said outright ("딥시크 여파로", "…때문", "…로 인해"), or a purpose ("…을 찍으려고")
CAUSE = re.compile(r"때문|영향|여파|탓|덕분|덕에|(으)?로 인(해|한)|원인|이유|배경|계기|쇼크|충격|우려|에 따른|에 따라|결과|효과|"
                   r"위해|위한|려고|려는|목적")
# a cause in passing: "…에서 패소하면서 … 신청했다", "물탱크가 터져 …", "폭염으로 생산량이 …"
IN_PASSING = re.compile(r"면서|하자|되자|는 데다|(?<=[가-힣])(아|어|해|져|러)서\s")


def what_answers(question: str) -> re.Pattern | None:
    """How an answer gives what the question asks: a cause clause for 왜, a figure with its unit
    for 얼마/몇, a day for 언제; None when no pattern tells (a name for 누구 is a Kiwi tag).

    >>> what_answers("엔비디아 주가는 왜 떨어졌어?") is CAUSE, what_answers("몇 살이야?").search("64세") is not None
    (True, True)
    """
    if asks_why(question):
        return CAUSE
    kind = asked_for(question)
    return next((gives for k, _, gives in ASKS if k == kind), None)


def asks_why(question: str) -> bool:
    """The question asks for a cause (it is asked without the worked examples, prompt.py).

    >>> asks_why("엔비디아 주가는 왜 떨어졌어?"), asks_why("주가 하락의 원인은?"), asks_why("얼마나 떨어졌어?")
    (True, True, False)
    """
    return bool(re.search(r"왜|이유|원인|까닭|(?i:\bwhy\b)", question))


def asks_how(question: str) -> bool:
    """The question asks for a way or a process.

    >>> asks_how("딥시크가 어떻게 이렇게 빨리 컸대?"), asks_how("How is Aramco using DeepSeek?"), asks_how("How much?")
    (True, True, False)
    """
    return bool(re.search(r"어떻게|어째서|(?i:\bhow\b(?! (much|many|old|long|big)))", question))


def asked_for(question: str) -> str | None:
    """What the question asks for: "verdict", "age", "when", "percent", "money", "count", "size",
    "amount", "who", or None (anything else).

    >>> asked_for("펭바이 나이 몇 살이야?"), asked_for("딥시크 다운로드수 몇회야"), asked_for("화훙반도체 새 사장 누구야?")
    ('age', 'count', 'who')
    >>> asked_for("엔비디아 주가는 왜 떨어졌어?"), asked_for("언제 공개됐어?"), asked_for("노인회장은 왜 노인 나이를 올리자는 거야?")
    (None, 'when', None)
    >>> asked_for("시금치값 얼마나 올랐어?"), asked_for("시금치 한 단 값 얼마야?")
    ('amount', 'money')
    >>> asked_for("이재명 1심 선고 형량 뭐였어?"), asked_for("재판 결과 어떻게 나왔어?"), asked_for("선고 언제야?")
    ('verdict', 'verdict', 'when')
    """
    if asks_why(question):  # "왜 노인 나이를 75세로 올리자는 거야?" asks a cause, not an age
        return None
    for kind, asks, _ in ASKS:
        if asks.search(question):
            return kind
    return "who" if re.search(r"누구|누가|(?i:\bwho\b)", question) else None


def gives_what_asked(question: str, answer: str) -> bool:
    """The answer (without its citation markers: "[1]" is no number) holds the kind of thing
    the question asks for.

    >>> gives_what_asked("펭바이 나이 몇 살이야?", "30년 이상 근무한 베테랑입니다."), gives_what_asked("몇 살이야?", "64세입니다.")
    (False, True)
    >>> gives_what_asked("입장료 얼마였어?", "148만여 명이 다녀갔다."), gives_what_asked("방문객 몇 명이었어?", "148만여 명.")
    (False, True)
    >>> gives_what_asked("새 사장 누구야?", "펭바이입니다."), gives_what_asked("새 사장 누구야?", "새 사장입니다.")
    (True, False)
    """
    if asks_why(question):  # a cause clause ("…여파로", "…때문"), or one in passing ("…하면서")
        return CAUSE.search(answer) is not None or IN_PASSING.search(answer) is not None
    kind = asked_for(question)
    if kind is None:
        return True
    if kind == "who":  # a name is a noun the question lacks (Kiwi tags many foreign names as common nouns)
        asked = {t.form for t in kiwi().tokenize(question)}
        return any(t.tag in ("NNP", "NNG", "SL") and t.form not in asked for t in kiwi().tokenize(answer))
    return next(gives for k, _, gives in ASKS if k == kind).search(answer) is not None


LOOP = 24  # characters: a phrase this long said twice is a loop, not emphasis


def until_loop(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces until the text repeats itself (then generation stops: the pieces are closed).

    A greedy small model can fall into a loop ("…보고서에서 파라미터 수는 557만6000달러를
    사용했다는 내용의 보고서에서 파라미터 수는…") until its token limit. A repeat is seen only
    once LOOP characters of it were shown; `cut_loop` then cuts the finished reply, which is
    checked like any other.
    """
    text = ""
    try:
        for piece in pieces:
            yield piece
            text += piece
            if _repeat_start(text, len(text) - len(piece)) is not None:
                return
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def cut_loop(text: str) -> str:
    """The text before its first repeat of LOOP characters or more.

    >>> cut_loop("딥시크 보고서에서 파라미터 수는 557만6000달러를 사용했다는 내용의 보고서에서 파라미터 수는 557만6000달러를")
    '딥시크 보고서에서 파라미터 수는 557만6000달러를 사용했다는 내용의'
    """
    cut = _repeat_start(text, 0)
    return text if cut is None else text[:cut].rstrip()


def _repeat_start(text: str, since: int) -> int | None:
    """Where the first LOOP-long stretch ending after `since` that already appeared earlier begins."""
    for end in range(max(since + 1, 2 * LOOP), len(text) + 1):
        if text.find(text[end - LOOP : end], 0, end - LOOP) != -1:
            return end - LOOP
    return None
