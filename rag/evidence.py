"""Evidence: the sentences of the hits that answer the question, best first, each with the
probability that it does.

Between retrieval and the prompt. The right article is nearly always retrieved (first for 11 of
12 wrong answers of a month of news), but a 1.5B model asked to *find* the answer among eight
sentences of several articles refuses, takes a neighbour or follows a distractor. Finding is
ranking, which the code can do and measure without the model (`rag eval --evidence`); the
model is then shown the evidence and only has to say it (prompt.py), and when it fails even
at that, the evidence itself is the answer (answer.py).

Every sentence overlapping a hit chunk, and every hit's headline, is a candidate. Each is
described by what the product already knows (`FEATURES`): the question's content words in it
(and in its headline), its predicate by meaning ("떨어졌어" finds "하락"), whether it gives
what is asked (an amount for 얼마, a name for 누구, a day for 언제, a cause clause for 왜),
whether it names the question's subject or is about another name, how similar the hit is to
the question, and its article's rank among the hits. A logistic model over them (`WEIGHTS`, fit on the tune half
of the real-question set by `harness/evidence.py`, never on the test half) gives each
candidate its probability.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .check import ASKS, CAUSE, asked_for, asks_how, asks_why
from .embed import Embedder
from .korean import CONTENT_TAGS, NAME_TAGS, PROPER_TAGS, key, kiwi, tokens
from .split import sentence_spans
from .subject import WINDOW_BEFORE, about_another, other_year, question_subjects, topics
from .types import Evidence, Hit

# News says 하락 where a person asks 떨어졌어: a question's predicate is matched by meaning.
_MEANINGS = {
    "down": "떨어지 하락 급락 폭락 내리 내려가 줄 감소 빠지 추락 약세 줄어들 낮아지 꺾이 위축 손실 적자 붕괴 밀리",
    "up": "오르 상승 급등 폭등 늘 증가 뛰 올리 강세 치솟 높아지 확대 늘어나 반등 흑자 최고",
    "appoint": "선임 임명 발탁 내정 지명 취임 선출 뽑 제청 당선 맡",
    "release": "공개 발표 출시 선보이 내놓 공표 개발 출범",
    "ban": "금지 차단 제한 중단 막 규제",
    "arrest": "체포 구속 검거 기소 송치 입건 수사 압수수색",
    "die": "숨지 사망 별세 타계 죽 희생",
    "court": "선고 징역 판결 형량 집행유예 벌금 무죄 유죄 구형",
}
MEANING = {word: meaning for meaning, words in _MEANINGS.items() for word in words.split()}
_OPPOSITE = {"down": "up", "up": "down"}
# a cause in passing, as a sentence may give one: also "물탱크가 터져 …", "폭염으로 생산량이 …" (an answer
# must say more than "…로": check.IN_PASSING)
IN_PASSING = re.compile(r"면서|하자|되자|는 데다|(?<=[가-힣])(아|어|해|져|러)서?\s|(?<=[가-힣]{2})(으)?로\s(?!인(해|한))")
# what only names a cause ("원인을 조사할 방침", "이유는 밝혀지지 않았다") or points back ("이에 따라")
NO_CAUSE = re.compile(r"(원인|이유|경위)(을|를|은|는)?\s?(조사|파악|규명|확인|밝혀지지|알려지지|분석 중)|^\s*(이에|이로써|이와)\s")
# What gives an asked value, in a sentence: a number with its unit (check.ASKS is looser: it
# judges a short answer, where "원" alone is money; in a sentence it is also 위원 and 원장)
_NUMBER = r"\d[\d,.]*\s*(조|억|만|천)?\s*"
_GIVES = {**{kind: gives for kind, _, gives in ASKS},
          "money": re.compile(_NUMBER + r"(원|달러|엔|위안|유로|파운드|크로나)|\$\s?\d"),
          "percent": re.compile(r"\d[\d.]*\s*(%|％|퍼센트|%p|포인트)"),
          "count": re.compile(_NUMBER + r"(여\s?)?(명|개|곳|대|건|회|번|편|골|표|마리|부|권|가구|채|척|톤|t\b)"),
          "age": re.compile(r"\d+\s*(살|세)|\((\d{2,3})[)·,]")}  # "한강(54)": a person's age in news
_ASKING = re.compile(r"\?|？|얼마(?!\s?(전|후|뒤|안|지나))|누구|어디|언제|왜\s|무엇|뭘까")
_WHERE = re.compile(r"어디|어느\s?(곳|나라|지역|도시|대학|학교|회사|기업|병원|동물원|팀|구단)|(?i:\bwhere\b|which (country|city|region|company))")
_NAME = re.compile(r"이름|(?i:\bname\b)")
# what kind of thing the subject is: "딥시크는 어떤 회사야?" is answered by "중국 AI 스타트업 딥시크가 …"
_DESCRIBE = re.compile(r"어떤\s?(회사|기업|곳|사람|인물|단체|기관|업체|앱|서비스|나라|팀|프로그램)|뭐\s?하는\s?(회사|곳|사람|기업)|"
                       r"(?i:\bwhat (kind of|sort of) (company|firm|person|app)\b|\bwho is\b)")
NAMED = ("who", "where", "name")  # kinds a proper noun answers
_CAPTION = re.compile(r"(/\s*\S{2,10}$|사진\s*=|제공\s*=|\(사진|뉴스1$|연합뉴스$|뉴시스$)")

FEATURES = ("words", "with_title", "context", "rare_words", "meaning", "opposite", "gives", "gives_why", "lacks", "new_facts", "in_passing", "gives_words", "gives_rare",
            "near", "asking", "subject", "other_subject", "other_year", "similarity", "rank", "headline", "headline_why", "lead", "caption", "short")
# Fit by `rag eval eval/real-questions.jsonl --evidence --fit` on the tune half (README, "Evidence"):
# WEIGHTS rank the candidates of one question (a softmax over them); SCALE and BIAS turn the
# best one's score into the probability that it answers (unanswerable questions included).
WEIGHTS = {
    "words": 0.072, "with_title": 1.178, "context": 2.405, "rare_words": 0.603, "meaning": 0.851,
    "opposite": -1.121, "gives": 2.005, "gives_why": 0.516, "lacks": -2.521, "new_facts": -0.234,
    "in_passing": 0.179, "gives_words": 0.429, "gives_rare": 0.384, "near": 1.882, "asking": -0.415,
    "subject": 1.783, "other_subject": 0.533, "other_year": -0.215, "similarity": 1.837, "rank": 2.219,
    "headline": 2.538, "headline_why": -0.434, "lead": -0.578, "caption": -0.481, "short": -0.286,
}
SCALE, BIAS = 0.243, -1.944


@dataclass(frozen=True)
class Asked:
    """What a question asks, as the evidence is matched against it."""

    question: str
    words: frozenset[str]  # its content words (time words taken out: the period is a filter)
    meanings: frozenset[str]  # its predicate's meanings ("down" for 떨어졌어)
    kind: str | None  # check.asked_for's kind, "why", "how", or None
    subjects: frozenset[str]  # question_subjects(), as keys

    @property
    def key(self) -> str:
        return key(self.question)

    @classmethod
    def of(cls, question: str, words: Sequence[str]) -> Asked:
        """
        >>> a = Asked.of("엔비디아 주가는 왜 떨어졌어?", ["엔비디아", "주가", "떨어지"])
        >>> sorted(a.meanings), a.kind, sorted(a.subjects)
        (['down'], 'why', ['엔비디아'])
        """
        kind = "why" if asks_why(question) else asked_for(question) or ("how" if asks_how(question) else None) or (
            "where" if _WHERE.search(question) else "name" if _NAME.search(question) else
            "describe" if _DESCRIBE.search(question) else None)
        return cls(question, frozenset(words), frozenset(MEANING[w] for w in words if w in MEANING), kind,
                   frozenset(question_subjects(question)))


def candidates(hits: Sequence[Hit]) -> list[Evidence]:
    """Every sentence overlapping a hit chunk, then the hit's headline; best hit first, each once."""
    seen, out, ranks = set(), [], {}
    for hit in hits:
        # the article's rank, not the chunk's: a story's cause is often told in its second chunk
        rank = ranks.setdefault(hit.article.id, len(ranks))
        text = hit.article.text
        spans = sentence_spans(text)
        for n, (s, e) in enumerate(spans):
            if s < hit.chunk.end and e > hit.chunk.start and (hit.article.id, s) not in seen:
                seen.add((hit.article.id, s))
                out.append(Evidence(hit.article, s, e, rank=rank, similarity=hit.similarity or 0.0, lead=n == 0, chunk=hit.chunk))
        if (hit.article.id, -1) not in seen and hit.article.title.rstrip("…") not in text:
            seen.add((hit.article.id, -1))
            out.append(Evidence(hit.article, 0, 0, rank=rank, similarity=hit.similarity or 0.0, headline=True, chunk=hit.chunk))
    return out


def features(asked: Asked, cands: Sequence[Evidence], similarity: np.ndarray | None = None) -> np.ndarray:
    """One row of FEATURES per candidate; `similarity` (the sentence's own cosine to the question)
    stands in for the hit's when given."""
    seen = [_seen(asked, c) for c in cands]
    # the question's words that few candidates hold tell them apart ("MVP" among a story's sentences,
    # all of which say "한국시리즈"): each word weighs by how rare it is among them
    rare = {w: math.log((1 + len(seen)) / (1 + sum(w in s.found for s in seen))) + 0.1 for w in asked.words}
    rows = [_row(asked, c, s, rare, float(similarity[i]) if similarity is not None else c.similarity)
            for i, (c, s) in enumerate(zip(cands, seen))]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))


@dataclass(frozen=True)
class _Seen:
    """What a candidate holds of the question: its words (and where), what it gives of what is asked (where)."""

    toks: list
    words: set[str]
    found: dict[str, list[int]]  # question word -> places in the sentence
    answers: list[int]  # places of what is asked, not the question's own
    new_facts: list  # names and figures the question does not hold


def _seen(asked: Asked, c: Evidence) -> _Seen:
    text, lower, text_key = c.text, c.text.lower(), key(c.text)
    toks = kiwi().tokenize(text)
    words = {t.form.lower() for t in toks if t.tag.split("-")[0] in CONTENT_TAGS}
    found = {w: _places(lower, _stem(w, text_key)) for w in asked.words if w in words or (len(w) > 1 and _stem(w, text_key) in text_key)}
    new_facts = [t for t in toks if t.tag in NAME_TAGS and key(t.form) not in asked.key]
    return _Seen(toks, words, found, _answers(asked, text, toks), new_facts)


def _row(asked: Asked, c: Evidence, s: _Seen, rare: dict[str, float], similarity: float) -> tuple[float, ...]:
    text = c.text
    n, total = len(asked.words) or 1, sum(rare.values()) or 1.0
    passing = asked.kind == "why" and not NO_CAUSE.search(text) and bool(IN_PASSING.search(text))
    meanings = {MEANING.get(w) for w in s.words}
    in_title = {w for w in asked.words if len(w) > 1 and key(w) in key(c.article.title)}
    # what it gives next to the question's rarest words: "김선빈이 최우수선수(MVP)의 영예를"
    given = s.answers or [t.start for t in s.new_facts]
    near = max((rare[w] / max(rare.values()) / (1 + abs(a - b) / 20) for w, places in s.found.items() for b in places for a in given),
               default=0.0)
    return (
        len(s.found) / n,  # words
        len(set(s.found) | in_title) / n,  # with_title
        len(set(s.found) | in_title | {w for w in asked.words if len(w) > 1 and key(w) in key(_before(c))}) / n,  # context
        sum(rare[w] for w in s.found) / total,  # rare_words
        float(bool(asked.meanings & meanings)),  # meaning
        float(bool({_OPPOSITE.get(m) for m in asked.meanings} & meanings) and not asked.meanings & meanings),  # opposite
        float(bool(s.answers) and asked.kind != "why"),  # gives: the figure, day or name asked
        float(bool(s.answers) and asked.kind == "why"),  # gives_why: a cause clause
        float(not s.answers and asked.kind not in (None, "how")),  # lacks: what is asked is not there
        min(len(s.new_facts), 3) / 3,  # new_facts
        float(passing),  # in_passing
        float(bool(s.answers) or (asked.kind is None and bool(s.new_facts))) * len(s.found) / n,  # gives_words
        float(bool(s.answers) or passing) * sum(rare[w] for w in s.found) / total,  # gives_rare: what is asked, about the rare words
        near,
        float(bool(_ASKING.search(text))),  # asking: it asks too ("얼마 내야 적당할까?"), it does not answer
        # subject: named in it, its headline or the sentences before (news names a subject once, then goes on about it)
        float(not asked.subjects or any(x in key(text + c.article.title + _before(c)) for x in asked.subjects)),
        float(about_another(topics(text), asked.subjects)),  # other_subject
        float(other_year(asked.question, text)),  # other_year
        similarity,
        1.0 / (1 + c.rank),  # rank
        float(c.headline), float(c.headline and asked.kind == "why"), float(c.lead), float(bool(_CAPTION.search(text.strip()))),
        float(len(text.strip()) < 25),  # short
    )


def _stem(word: str, text_key: str) -> str:
    """The word as the text may hold it: without its last syllable when Kiwi glued a particle to
    an unknown name ("엔비디아주가왜떨어졌어" gives "엔비디아주").

    >>> _stem("엔비디아주", "엔비디아는폭락했다"), _stem("주가", "주가는")
    ('엔비디아', '주가')
    """
    return word[:-1] if len(word) >= 4 and key(word) not in text_key and key(word[:-1]) in text_key else key(word)


def _before(c: Evidence) -> str:
    """The stretch of the article before the sentence, where the story it goes on with was told."""
    return "" if c.headline else c.article.text[max(0, c.start - WINDOW_BEFORE) : c.start]


def _places(text: str, word: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(word), text)]


def _answers(asked: Asked, text: str, toks) -> list[int]:
    """Where the sentence gives the kind of thing asked for (an amount, a day, a name, a cause)
    that the question itself does not hold ("60대" in "60대 인구 몇 명이야?" is no answer); none
    when the question asks for no particular kind."""
    return [at for at, _ in given(asked, text, toks)]


def given(asked: Asked, text: str, toks) -> list[tuple[int, str]]:
    """(place, text) of what `_answers` finds."""
    if asked.kind == "why":
        return [] if NO_CAUSE.search(text) else [(m.start(), m.group()) for m in CAUSE.finditer(text)]
    if asked.kind in NAMED:
        return [(t.start, t.form) for t in toks if t.tag in PROPER_TAGS and len(t.form) > 1 and key(t.form) not in asked.key]
    if asked.kind == "describe":  # a noun set right before the subject's name: "스타트업 딥시크"
        return [(p.start, p.form) for p, t in zip(toks, toks[1:]) if key(t.form) in asked.subjects
                and p.tag in ("NNG", "NNP", "SL") and t.start - p.start - p.len <= 1]
    if asked.kind not in _GIVES:
        return []
    return [(m.start(), m.group()) for m in _GIVES[asked.kind].finditer(text) if key(m.group()) not in asked.key or not key(m.group())]


def rank(question: str, words: Sequence[str], hits: Sequence[Hit], embedder: Embedder | None = None) -> list[Evidence]:
    """The candidates of the hits, most likely to answer first, each with its probability."""
    return ordered(*described(question, words, hits, embedder))


def described(question: str, words: Sequence[str], hits: Sequence[Hit], embedder: Embedder | None = None) -> tuple[list[Evidence], np.ndarray]:
    """The candidates of the hits and their FEATURES.

    A question that shares no word with any candidate (English: "Kim Keon-hee" for "김건희") is
    matched by the sentences' own embeddings, with the `embedder` if given: the hit's similarity
    alone cannot tell its sentences apart.
    """
    asked = Asked.of(question, words)
    cands = candidates(hits)
    x = features(asked, cands)
    if cands and embedder is not None and not x[:, FEATURES.index("with_title")].any():
        sims = embedder.embed_documents([c.text for c in cands]) @ embedder.embed_query(question)
        x = features(asked, cands, sims)
    return cands, x


def says_opposite(question: str, sentence: str) -> bool:
    """The sentence's main predicate says the opposite of what the question asks about.

    >>> says_opposite("오라클 시가총액 얼마나 줄었어?", "폭락했던 오라클은 2% 올랐다."), says_opposite("얼마나 줄었어?", "2% 줄었다.")
    (True, False)
    >>> says_opposite("엔비디아 주가는 왜 떨어졌어?", "하락폭에 비해 반등폭이 미미해 딥시크 쇼크로부터 회복되지 못한 모습을 보이고 있다.")
    False
    """
    asked = {MEANING[w] for w in tokens(question) if w in MEANING}
    return _main_predicate(sentence) in {_OPPOSITE.get(m) for m in asked} - {None}


def _main_predicate(sentence: str) -> str | None:
    """The meaning of the sentence's last predicate (a verb, an adjective, or a noun made one with
    하다/되다): the main predicate comes last, and a noun in a clause before it ("반등폭이 미미해")
    is not what the sentence says. A sentence without one (a headline: "17% 하락 마감") is
    read by its last word with a meaning."""
    toks = kiwi().tokenize(sentence)
    predicates = [t.form for i, t in enumerate(toks) if t.tag in ("VV", "VA")
                  or (t.tag == "NNG" and i + 1 < len(toks) and toks[i + 1].tag in ("XSV", "XSA"))]
    if predicates:
        return MEANING.get(predicates[-1])
    said = [MEANING[w] for w in tokens(sentence) if w in MEANING]
    return said[-1] if said else None


def ordered(cands: list[Evidence], x: np.ndarray, weights: dict[str, float] = WEIGHTS, scale: float = SCALE,
            bias: float = BIAS) -> list[Evidence]:
    """The candidates with their probabilities, best first (among equals, the better hit's earlier sentence)."""
    z = scale * (x @ np.array([weights[f] for f in FEATURES], dtype=np.float32)) + bias if len(cands) else []
    ranked = [replace(c, score=_sigmoid(float(v)), share=float(row[FEATURES.index("with_title")]), features=tuple(map(float, row)))
              for c, v, row in zip(cands, z, x)]
    return sorted(ranked, key=lambda c: -c.score)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
