"""What a question can ask for: the one registry of kinds.

Each kind says how a question asks for it (`asks`), what gives it in a sentence (`gives`: a
pattern, or Kiwi's proper nouns for names, or a clause for a cause) and how an answer states it
(`frame`: a value put in the question's place, a clause, or a whole sentence). The question is
matched once (asked.py), and every later stage reads the kind from there: the evidence ranks
sentences that give it (evidence.py), the values are taken from them (extract.py) and the
answer is composed around them (compose.py).

`spans` finds a kind in a sentence, for every stage: the evidence ranks the sentences that give
it (evidence.py), the values are taken from them (extract.py).

The order matters: the first kind whose `asks` matches the question decides ("왜 75세로
올리자는 거야?" asks a cause, not an age; "입장료 얼마?" asks money, not any amount).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .phrases import CAUSE, causes, descriptions, names, nouns


@dataclass(frozen=True)
class Kind:
    """One kind of answer.

    `frame` is how an answer says it: "value" (a short span of the sentence put where the
    question asks: "300명 지원했습니다"), "name" (a proper noun run or a quoted title),
    "clause" (a cause said with its marker: "딥시크 쇼크 여파로 떨어졌습니다") or "sentence"
    (the sentence itself answers: what was said, what was done, how).
    """

    name: str
    asks: re.Pattern
    gives: re.Pattern | None
    frame: str


# a Korean number: "1억2천500만", "9억1천만", "4만8000", "5,930억", "3.5"
_NUM = r"\d[\d,.]*(?:\s?[조억만천백](?:\s?\d[\d,.]*)?)*\s*"
# a sum of money; "$5" too
MONEY = re.compile(_NUM + r"(?:여\s?)?(?:원|달러|엔|위안|유로|파운드|크로나|루블)|\$\s?\d[\d,.]*\s*(?:조|억|만|천)?(?:\s?달러)?")
PERCENT = re.compile(r"\d[\d.,]*\s*(?:%p|%|％|퍼센트포인트|퍼센트|포인트|배)|\d[\d,.]*\s?(?:대|:)\s?\d+(?![\d,.]*\s*(?:년|월|일|명))")  # "33대1": a ratio
_COUNTERS = "명|개국|개사|개월|개|곳|대|건|회|번|편|골|표|마리|부|권|가구|채|척|톤|종|점|승|패|세트|병|장|그루|가지|차례|팀|석|자리|단계|층"
COUNT = re.compile(_NUM + r"(?:여\s?|가량\s?|남짓\s?)?(?:" + _COUNTERS + r")(?![가-힣]*(?:원|달러))|[한두세네]\s?(?:명|곳|개|번|마리|권|차례)")
SIZE = re.compile(r"(?:영하\s?|-)?\d[\d,.]*\s*(?:cm|센티미터|센티|mm|밀리|㎞|km|킬로미터|킬로그램|kg|㎏|킬로|m\b|미터|톤|t\b|g\b|그램|㎡|평|헥타르|ha\b|도\b|℃)")
AGE = re.compile(r"\d{1,3}\s*(?:살|세)(?![가-힣]*(?:대|기))|(?<=\()\d{2,3}(?=[)·,])")
DURATION = re.compile(r"\d[\d.]*\s*(?:년|개월|달|주일?|일|시간|분|초)(?:\s?\d+\s?(?:개월|시간|분|초))?(?:\s*(?:만에|만|동안|간|째))?")
RANK = re.compile(r"\d+\s*(?:위|등|번째|순위)")
DAY = re.compile(r"(?:\d{4}\s?년\s?)?\d{1,2}\s?월\s?\d{1,2}\s?일|(?:지난|오는|이달|다음\s?달)\s?\d{1,2}\s?일|\d{1,2}\s?일\s?\((?:현지\s?시간)?\)|"
                 r"\d{4}\s?년\s?\d{1,2}\s?월|\d{1,2}\s?월\s?(?:초|중순|말|하순|상순)|(?:\d{4}|내|올|작|지난)\s?(?:년|해)\s?(?:상반기|하반기|\d\s?분기|말|초)?|"
                 r"[월화수목금토일]요일|\d{1,2}\s?일(?=[^\d가-힣]|\s|$|부터|까지|에|엔|께|오전|오후)|(?:오전|오후|새벽)\s?\d{1,2}\s?시(?:\s?\d{1,2}\s?분)?")
VERDICT = re.compile(r"(?:징역|금고|집행유예|벌금|자격정지|추징금|과징금|과태료)\s?(?:형\s?)?\d[\d,.]*\s*(?:년|개월|월|만\s?원|억\s?원|원)"
                     r"(?:\s?\d+\s?개월)?(?:\s?(?:에|과|와|및)\s?(?:집행유예|벌금|추징금|자격정지)\s?\d[\d,.]*\s*(?:년|개월|만\s?원|억\s?원|원))*|"
                     r"무죄|유죄|실형|사형|무기징역|선고유예|공소\s?기각|면소|기각|인용")
# any figure: with a unit, or bare ("코스피 지수는 2600선", "금리 4.54") but not a day or a year
AMOUNT = re.compile("|".join(p.pattern for p in (MONEY, PERCENT, COUNT, SIZE, RANK, AGE)) + r"|\d[\d.]*\s*(?:년|개월|시간|분)\s*(?:만에|동안|간|째)|\d[\d,.]*\s*(?:조|억|만|천)\s*[가-힣]{0,2}|"
                    r"(?<![\d.,])\d[\d,]*(?:\.\d+)?(?:선|포인트|p\b)?(?![\d.,]|\s*(?:년|월|일|시|분|초|세|살|%))")
_COPULA_Q = r"(?:이야|야|예요|이에요|인가요?|일까|이지|냐|니|였어|이었어|였지|였나|인지|이었|)?"
KINDS = (
    # first: "왜 노인 나이를 75세로 올리자는 거야?" asks a cause, not an age
    Kind("cause", re.compile(r"왜|이유|원인|까닭|어째서|(?i:\bwhy\b|what caused|the reason)"), CAUSE, "clause"),
    # a sentence or a ruling: court news is much of a paper's society pages ("형량 뭐였어?", "재판 결과는?")
    Kind("verdict", re.compile(r"형량|구형|몇\s?년\s?형|어떤\s?(?:형|처벌|판결)|(?:선고|재판|판결|결정|1심|2심|항소심|상고심)\s?(?:결과|형|은|는)?\s?"
                               r"(?:뭐|어떻게|어땠|나왔|받았)|(?:징역|벌금)\s?(?:몇|얼마)"), VERDICT, "value"),
    Kind("age", re.compile(r"몇\s?살|나이|(?i:how old)"), AGE, "value"),
    Kind("duration", re.compile(r"얼마\s?(?:동안|만에|나\s?걸)|몇\s?(?:년|개월|달|주|일|시간|분)\s?(?:동안|만에|간|째|걸)|기간|(?i:how long)"), DURATION, "value"),
    Kind("when", re.compile(r"언제|며칠|몇\s?(?:월|일|년|시)|무슨\s?요일|(?i:\bwhen\b|what (?:date|day|time)|which day)"), DAY, "value"),
    Kind("percent", re.compile(r"퍼센트|몇\s?(?:%|퍼|프로)|비율|(?:률|율)(?:은|는|이)?\s?(?:얼마|몇)|(?i:percent|what share)"), PERCENT, "value"),
    # "값 얼마나 올랐어?" asks how much it changed: a percent answers it too (amount)
    Kind("money", re.compile(r"(?:매출|가격|금액|예산|상금|배당금|비용|값|연봉|입장료|요금|기업\s?가치|시가총액|돈|빚|채무|수익|이익|손실|임금|월급|"
                             r"보상금|벌금|세금|수수료|적자|흑자)[^?]{0,12}(?:얼마|몇)(?!나\s?(?:올|오르|내렸|내려|떨어|줄|늘|빠|뛰|상승|하락|증가|"
                             r"감소|급등|급락|폭등|폭락))|(?:얼마|몇)\s?(?:원|달러)|(?:가격|값|요금|입장료|연봉|상금)(?:은|는|이|가)?\s*[?？]\s*$|(?i:how much money|what price|how much (?:did|does|is) it cost)"),
         MONEY, "value"),
    Kind("count", re.compile(r"몇\s?(?:" + _COUNTERS + r")|(?i:how many)"), COUNT, "value"),
    Kind("size", re.compile(r"몇\s?(?:센티|cm|킬로|kg|미터|톤|그램|평|도)|몸무게|크기|길이|높이|면적|기온|(?i:how (?:big|tall|heavy|far))"), SIZE, "value"),
    Kind("rank", re.compile(r"몇\s?(?:위|등|번째|째)|순위|(?i:what rank|which place)"), RANK, "value"),
    Kind("amount", re.compile(r"얼마|몇|(?i:how (?:much|many))"), AMOUNT, "value"),
    Kind("name", re.compile(r"이름|명칭|제목|번호|뭐라는|뭐라고\s?(?:불|부르|이름)|무슨\s?(?:모델|제품|앱|영화|책|노래|드라마|작품|상|프로그램|서비스)|"
                            r"어떤\s?(?:모델|제품)을?\s?(?:공개|출시|발표|내놓)|(?i:\bname\b|what (?:model|product|app|title))"), None, "name"),
    Kind("place", re.compile(r"어디|어느\s?(?:곳|나라|지역|도시|국가|동네|장소)|(?i:\bwhere\b|which (?:country|city|region|place))"), None, "name"),
    Kind("org", re.compile(r"어느\s?[가-힣]+|무슨\s?(?:회사|기업|팀|단체)|"
                           r"(?i:which (?:company|firm|team|university|party))"), None, "name"),
    Kind("who", re.compile(r"누구|누가|(?i:\bwho\b(?!\s+is\b))"), None, "name"),
    # what kind of thing the subject is: "딥시크는 어떤 회사야?" is answered by "중국 AI 스타트업 딥시크가 …"
    Kind("describe", re.compile(r"어떤\s?(?:회사|기업|곳|사람|인물|단체|기관|업체|앱|서비스|나라|팀|프로그램|모델|문제|병|질환|제도|법)" + _COPULA_Q +
                                r"\s*[?？]?\s*$|뭐\s?하는\s?(?:회사|곳|사람|기업)|^\s*\S+(?:은|는|이|가|란)\s?(?:뭐|무엇)(?:야|예요|임|지|인가요?|이에요)\s*[?？]?\s*$|"
                                r"(?i:what (?:kind|sort) of|\bwhat is\b)"), None, "clause"),
    # a thing named by a noun: "딥시크가 작년 말 공개한 모델은 뭐야?", "…한 것은 무엇인가?"
    Kind("what", re.compile(r"(?:무엇|뭐|뭘|무얼)(?:인가요?|일까|이야|야|예요|입니까|인지|였|이었|이지|임|이에요|을|를|이|가)?\s*[?？]?\s*$|"
                            r"무엇(?:을|이|으로)|(?i:^\s*what\b)"), None, "name"),
)
BY_NAME = {k.name: k for k in KINDS}
# kinds a proper noun answers
NAMED = frozenset(k.name for k in KINDS if k.frame == "name")
# kinds whose value is a figure with its unit
FIGURES = frozenset(k.name for k in KINDS if k.frame == "value")


def kind_of(question: str) -> Kind | None:
    """The kind the question asks for, or None (what was said or done, how: the sentence answers).

    >>> [getattr(kind_of(q), "name", None) for q in ("펭바이 나이 몇 살이야?", "딥시크 다운로드수 몇회야", "화훙반도체 새 사장 누구야?")]
    ['age', 'count', 'who']
    >>> [getattr(kind_of(q), "name", None) for q in ("엔비디아 주가는 왜 떨어졌어?", "언제 공개됐어?", "노인회장은 왜 노인 나이를 올리자는 거야?")]
    ['cause', 'when', 'cause']
    >>> [getattr(kind_of(q), "name", None) for q in ("시금치값 얼마나 올랐어?", "시금치 한 단 값 얼마야?", "딥시크는 어떤 회사야?")]
    ['amount', 'money', 'describe']
    >>> [getattr(kind_of(q), "name", None) for q in ("이재명 1심 선고 형량 뭐였어?", "재판 결과 어떻게 나왔어?", "선고 언제야?")]
    ['verdict', 'verdict', 'when']
    >>> [getattr(kind_of(q), "name", None) for q in ("호주 정부는 딥시크에 대해 어떤 조치를 했어?", "샤오미가 공개한 AI 모델 이름은?", "불꽃축제 어디서 열려?")]
    [None, 'name', 'place']
    """
    asked = re.sub(r"['‘’\"“”「」『』《》<>][^'‘’\"“”「」『』《》<>]{1,40}['‘’\"“”「」『』《》<>]", " ", question)  # a quoted title asks nothing
    return next((k for k in KINDS if k.asks.search(asked)), None)


def spans(kind: Kind | None, text: str, subjects: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The (start, end) spans of a text that give the kind: its pattern's matches for a figure,
    a day or a term; proper-noun runs (and, for a name, quoted titles) for a name; the clauses
    ending in a cause marker for a cause; the noun set before a subject for a description; none
    for a question that asks for no kind (the sentence answers).

    >>> t = "모집인원 1200명인데 지원자 300명뿐이었다."
    >>> [t[a:b] for a, b in spans(BY_NAME["count"], t)]
    ['1200명', '300명']
    >>> t = "징역 1년에 집행유예 2년을 선고했다."
    >>> [t[a:b] for a, b in spans(BY_NAME["verdict"], t)]
    ['징역 1년에 집행유예 2년']
    """
    if kind is None:
        return []
    if kind.name == "what":
        return nouns(text)
    if kind.frame == "name":
        return names(text, quoted=kind.name == "name")  # a quoted phrase is a title, not a place or a person
    if kind.name == "describe":
        return descriptions(text, subjects)
    if kind.name == "cause":
        return causes(text)
    return [(m.start(), m.end()) for m in kind.gives.finditer(text) if m.group().strip()]
