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

from .asked import MEANING, OPPOSITE, Asked
from .embed import Embedder
from .phrases import IN_PASSING, NO_CAUSE
from .korean import CONTENT_TAGS, NAME_TAGS, key, kiwi
from .split import sentence_spans
from .subject import WINDOW_BEFORE, about_another, other_year, topics
from .types import Evidence, Hit

_ASKING = re.compile(r"\?|？|얼마(?!\s?(전|후|뒤|안|지나))|누구|어디|언제|왜\s|무엇|뭘까")
_CAPTION = re.compile(r"(/\s*\S{2,10}$|사진\s*=|제공\s*=|\(사진|뉴스1$|연합뉴스$|뉴시스$)")

FEATURES = ("words", "with_title", "context", "rare_words", "meaning", "opposite", "gives", "gives_why", "lacks", "new_facts", "in_passing", "gives_words", "gives_rare",
            "near", "asking", "subject", "other_subject", "other_year", "similarity", "rank", "headline", "headline_why", "lead", "caption", "short")
# Fit by `rag eval eval/real-questions.jsonl --evidence --fit` on the tune half (README, "Evidence"):
# WEIGHTS rank the candidates of one question (a softmax over them); SCALE and BIAS turn the
# best one's score into the probability that it answers (unanswerable questions included).
WEIGHTS = {"words": 0.202, "with_title": 1.499, "context": 1.761, "rare_words": 0.975, "meaning": 1.055,
    "opposite": -1.123, "gives": 2.066, "gives_why": 0.567, "lacks": -2.632, "new_facts": -0.211,
    "in_passing": -1.134, "gives_words": 0.326, "gives_rare": 0.742, "near": 1.735, "asking": -0.552,
    "subject": 2.291, "other_subject": 0.195, "other_year": -0.53, "similarity": 2.301, "rank": 1.815,
    "headline": 2.7, "headline_why": -0.089, "lead": -0.18, "caption": -0.658, "short": -0.693}
SCALE, BIAS = 0.249, -2.334


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
    return _Seen(toks, words, found, _answers(asked, text), new_facts)


def _row(asked: Asked, c: Evidence, s: _Seen, rare: dict[str, float], similarity: float) -> tuple[float, ...]:
    text = c.text
    n, total = len(asked.words) or 1, sum(rare.values()) or 1.0
    why = asked.kind_name == "cause"
    passing = why and not NO_CAUSE.search(text) and bool(IN_PASSING.search(text))
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
        float(bool({OPPOSITE.get(m) for m in asked.meanings} & meanings) and not asked.meanings & meanings),  # opposite
        float(bool(s.answers) and not why),  # gives: the figure, day or name asked
        float(bool(s.answers) and why),  # gives_why: a cause clause
        float(not s.answers and asked.kind is not None),  # lacks: what is asked is not there
        min(len(s.new_facts), 3) / 3,  # new_facts
        float(passing),  # in_passing
        float(bool(s.answers) or (asked.kind is None and bool(s.new_facts))) * len(s.found) / n,  # gives_words
        float(bool(s.answers) or passing) * sum(rare[w] for w in s.found) / total,  # gives_rare: what is asked, about the rare words
        near,
        float(bool(_ASKING.search(text))),  # asking: it asks too ("얼마 내야 적당할까?"), it does not answer
        # subject: named in it, its headline or the sentences before (news names a subject once, then goes on about it)
        float(not asked.subjects or any(x in key(text + c.article.title + _before(c)) for x in asked.subjects)),
        float(about_another(topics(text), asked.subjects)),  # other_subject
        float(other_year(asked.text, text)),  # other_year
        similarity,
        1.0 / (1 + c.rank),  # rank
        float(c.headline), float(c.headline and why), float(c.lead), float(bool(_CAPTION.search(text.strip()))),
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


def _answers(asked: Asked, text: str) -> list[int]:
    """Where the sentence gives the kind of thing asked for (an amount, a day, a name, a cause)."""
    return [a for a, _ in asked.answers_in(text)]


def rank(asked: Asked, hits: Sequence[Hit], embedder: Embedder | None = None) -> list[Evidence]:
    """The candidates of the hits, most likely to answer first, each with its probability."""
    return ordered(*described(asked, hits, embedder))


def described(asked: Asked, hits: Sequence[Hit], embedder: Embedder | None = None) -> tuple[list[Evidence], np.ndarray]:
    """The candidates of the hits and their FEATURES.

    A question that shares no word with any candidate (English: "Kim Keon-hee" for "김건희") is
    matched by the sentences' own embeddings, with the `embedder` if given: the hit's similarity
    alone cannot tell its sentences apart.
    """
    cands = candidates(hits)
    x = features(asked, cands)
    if cands and embedder is not None and not x[:, FEATURES.index("with_title")].any():
        sims = embedder.embed_documents([c.text for c in cands]) @ embedder.embed_query(asked.text)
        x = features(asked, cands, sims)
    return cands, x


def ordered(cands: list[Evidence], x: np.ndarray, weights: dict[str, float] = WEIGHTS, scale: float = SCALE,
            bias: float = BIAS) -> list[Evidence]:
    """The candidates with their probabilities, best first (among equals, the better hit's earlier sentence)."""
    z = scale * (x @ np.array([weights[f] for f in FEATURES], dtype=np.float32)) + bias if len(cands) else []
    ranked = [replace(c, score=_sigmoid(float(v)), share=float(row[FEATURES.index("with_title")]), features=tuple(map(float, row)))
              for c, v, row in zip(cands, z, x)]
    return sorted(ranked, key=lambda c: -c.score)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
