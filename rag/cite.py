"""Citations: check the model's [n] markers and attach each answer sentence to the source
sentence it rests on.

A small model often cites the wrong source or none (measured: right 4 times in 25), so its
numbers are only a hint. Each answer sentence is compared with every source sentence shown
to the model, by shared content words (Kiwi tokens) and by embedding similarity. A sentence
gets the source the model named when that source supports it about as well as the best
one, else the best-supporting source, else no citation. The answer's markers are then
rewritten and renumbered in order of first use, so every [n] resolves to a Citation.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embed import Embedder
from .korean import NAME_TAGS, NOUN_TAGS, PROPER_TAGS, SUBJECT_TAGS, kiwi, tokens
from .prompt import REFUSAL, asks_how, asks_why
from .split import sentence_spans
from .types import Citation, Source

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,，]\s*\d+)*)\]")


@dataclass(frozen=True)
class Candidate:
    source: Source
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.source.article.text[self.start : self.end].strip()


def parse_markers(text: str) -> list[int]:
    """Every source number cited, in order.

    >>> parse_markers("하락했다 [1]. 반등했다[2, 3][1].")
    [1, 2, 3, 1]
    """
    return [int(n) for m in MARKER.finditer(text) for n in re.split(r"[,，]", m.group(1))]


def strip_markers(text: str) -> str:
    """
    >>> strip_markers("딥시크 충격 때문입니다 [1].")
    '딥시크 충격 때문입니다.'
    """
    return MARKER.sub("", text).strip()


def is_refusal(reply: str) -> bool:
    """The model's whole reply says it found nothing (or says nothing but markers).

    >>> is_refusal(REFUSAL), is_refusal("[1]"), is_refusal("미모입니다 [1].")
    (True, True, False)
    """
    return "찾을 수 없" in reply or not strip_markers(reply).strip()


def may_be_refusal(partial: str) -> bool:
    """The reply so far may still grow into the refusal sentence.

    >>> may_be_refusal("제공된 기사에서"), may_be_refusal("제공된 기사에 따르면")
    (True, False)
    """
    return REFUSAL.startswith(partial.strip())


def attach(
    answer: str, sources: Sequence[Source], embedder: Embedder | None, settings: Settings, question: str = ""
) -> tuple[str, list[Citation]]:
    """Rewrite the answer's citation markers from alignment; return (text, citations).

    A sentence no source supports, naming a name or number that neither the sources nor
    the question hold, or giving one subject's fact to another, is not said: every sentence
    shown is cited.
    """
    pieces = _answer_sentences(answer)
    candidates = [Candidate(src, s, e) for src in sources for s, e in src.sentences]
    if not pieces or not candidates:
        return strip_markers(answer), []
    known = _key(" ".join([question, *(c.text for c in candidates)]))
    subjects, explains = question_subjects(question), asks_why(question) or asks_how(question)
    scores = support_matrix([strip_markers(p) for p, _ in pieces], [c.text for c in candidates], embedder, settings)
    numbers: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    out = []
    for (piece, named), row in zip(pieces, scores):
        choice = _choose(row, candidates, named, settings)
        text = strip_markers(piece)
        if choice is None or invented(text, known) or changed_subject(text, candidates[choice], subjects, explains):
            continue
        cand = candidates[choice]
        key = (cand.source.article.id, cand.start)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append(_citation(numbers[key], cand))
        out.append(_with_marker(text, numbers[key]))
    return " ".join(out), citations


def support_matrix(answer_sents: list[str], source_sents: list[str], embedder: Embedder | None, settings: Settings) -> np.ndarray:
    """score[i, j]: how well source sentence j supports answer sentence i (0..1)."""
    sources = [(set(tokens(s)), _key(s)) for s in source_sents]
    lexical = np.array([[_overlap(set(tokens(a)), *s) for s in sources] for a in answer_sents], dtype=np.float32)
    if embedder is None:
        return lexical
    vecs = embedder.embed_documents(answer_sents + source_sents)
    dense = vecs[: len(answer_sents)] @ vecs[len(answer_sents) :].T
    weight = settings.cite_lexical_weight
    return weight * lexical + (1 - weight) * np.clip(dense, 0, 1)


def invented(sentence: str, known: str) -> set[str]:
    """The names and numbers in the sentence that the known text (sources and question) lacks.

    The model's slips look like facts: a garbled name ("데kker스크" for "데먄스크"), or a
    name carried over from the worked examples in the prompt. Names are looked up in the
    text, not among its tokens: Kiwi reads "광주교도소입니다" as one name and "광주교도소에서"
    as two words.

    >>> sorted(invented("1위는 화웨이입니다. 1,300대가 팔렸습니다.", _key("애플이 1위, 1300대 판매")))
    ['화웨이']
    >>> invented("광주교도소입니다.", _key("광주교도소에서 수감되었다"))
    set()
    """
    return {k for t in kiwi().tokenize(sentence) if t.tag in NAME_TAGS and (k := _key(t.form)) not in known}


def question_subjects(question: str) -> set[str]:
    """What the question is about: its leading noun phrase and its names, as keys.

    >>> sorted(question_subjects("그럼 오픈AI 기업가치 얼마야?")), sorted(question_subjects("브로드컴 주가는 왜 떨어졌어?"))
    (['오픈ai'], ['브로드컴'])
    """
    toks = kiwi().tokenize(question)
    runs = _noun_runs(question, toks)
    lead = [r for r in runs if any(t.tag in SUBJECT_TAGS for t in r[1])][:1]
    named = [r for r in runs if any(t.tag in PROPER_TAGS for t in r[1])]
    return {_key(text) for text, _ in lead + named if len(_key(text)) > 1}


def changed_subject(sentence: str, cited: Candidate, subjects: set[str], explains: bool = False) -> bool:
    """The answer sentence gives the cited sentence's fact to another subject.

    The words can all match while the subject changed: "브로드컴 주가는 … 5,930억달러 감소"
    cited to "엔비디아는 전 날 하락으로 시가총액이 5,930억달러 감소…". A subject of the
    question named in the answer sentence must be in the cited sentence, or in the few
    sentences before it (news names a subject once, then goes on about it) when the cited
    sentence is not about a name of its own ("X는 …"). A sentence not naming the subject
    ("5,930억달러입니다") must not rest on a sentence about another name ("엑스AI는 …") either,
    unless the question asks why or how (`explains`): a cause is often another subject's doing.

    >>> from rag.types import Article
    >>> c = Candidate(Source(1, Article("a", "t", "엔비디아는 시가총액이 5,930억달러 감소했다.", "f"), (), ((0, 26),)), 0, 26)
    >>> changed_subject("브로드컴은 5,930억달러 감소했다.", c, {"브로드컴"}), changed_subject("5,930억달러입니다.", c, {"브로드컴"})
    (True, True)
    >>> changed_subject("엔비디아는 5,930억달러 감소했다.", c, {"엔비디아"}), changed_subject("5,930억달러 감소했다.", c, set())
    (False, False)
    """
    if not subjects:
        return False
    cited_key = _key(cited.text)
    said = _key(sentence)
    named = {x for x in subjects if x in said}
    about = topics(cited.text)
    if not explains and about and not any(t in x or x in t for t in about for x in subjects):
        return True  # the cited sentence is about another name ("엑스AI는 … 750억 달러")
    if any(x in cited_key for x in named or subjects):
        return False
    before = _key(cited.source.article.text[max(0, cited.start - WINDOW_BEFORE) : cited.start])
    return bool(named) and not any(x in before for x in named)


WINDOW_BEFORE = 250  # characters before a cited sentence where its subject may be named (about 3 sentences)


def topics(sentence: str) -> set[str]:
    """The names the sentence is about: a name run marked as topic or subject ("엔비디아는").

    >>> sorted(topics("역시 전 날 폭락했던 브로드컴과 오라클은 각각 1%, 2%씩 올랐다.")), topics("시가총액은 줄었다.")
    (['브로드컴', '오라클'], set())
    >>> topics("호주 정부는 2월 4일 딥시크 사용을 금지했다.")
    {'호주'}
    """
    toks = kiwi().tokenize(sentence)
    runs = _noun_runs(sentence, toks)
    out = set()
    for i, (text, run) in enumerate(runs):
        after = next((t for t in toks if t.start >= run[-1].end), None)
        if after is not None and after.start == run[-1].end and after.tag in ("JX", "JKS") and after.form in "은는":
            # with the names joined to it: "브로드컴과 오라클은" is about both
            joined = [i]
            while joined[0] > 0 and _joins(toks, runs[joined[0] - 1][1][-1], run[0] if joined[0] == i else runs[joined[0]][1][0]):
                joined.insert(0, joined[0] - 1)
            out |= {_key(runs[j][0]) for j in joined if any(t.tag in PROPER_TAGS for t in runs[j][1])}
    return out


def _joins(toks, left, right) -> bool:
    """Two noun runs make one phrase ("호주 정부") or a list ("브로드컴과 오라클"): only a space,
    "과/와/및" or a comma stands between them."""
    between = [t for t in toks if left.end <= t.start and t.end <= right.start]
    return all(t.tag in ("JC", "SP") or t.form == "및" for t in between)


def _noun_runs(text: str, toks) -> list[tuple[str, list]]:
    """Runs of adjacent noun tokens with no space between them ("오픈AI", "엑스AI")."""
    runs: list[list] = []
    for t in toks:
        if t.tag in NOUN_TAGS:
            if runs and runs[-1][-1].end == t.start and runs[-1][-1].tag in NOUN_TAGS:
                runs[-1].append(t)
                continue
            runs.append([t])
        else:
            runs.append([t])
    return [(text[r[0].start : r[-1].end], r) for r in runs if r[0].tag in NOUN_TAGS]


def _key(text: str) -> str:
    return re.sub(r"[\s,]", "", text.lower())  # "1,300" and "1300" are one number


def _overlap(answer_words: set[str], source_words: set[str], source_text: str) -> float:
    """Share of the answer sentence's content words found in the source sentence.

    A word of two letters or more also counts when it is in the source's text: a name is
    often one word in a short answer and two in the source ("광주교도소입니다", "광주교도소에서").

    >>> _overlap({"광주교도소"}, {"광주", "교도소", "수감"}, "광주교도소에서수감되었다")
    1.0
    """
    found = [w for w in answer_words if w in source_words or (len(w) > 1 and _key(w) in source_text)]
    return len(found) / len(answer_words) if answer_words else 0.0


def _choose(row: np.ndarray, candidates: list[Candidate], named: list[int], settings: Settings) -> int | None:
    best = int(row.argmax())
    if row[best] < settings.min_support:
        return None
    picks = [j for j, c in enumerate(candidates) if c.source.n in named]
    if picks:
        own = max(picks, key=lambda j: row[j])
        if row[own] >= row[best] - settings.cite_margin:
            return own
    return best


def _answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the markers the model put on each.

    A marker right after a sentence's end belongs to that sentence: "…했다. [1]" and "…했다[1]."
    """
    text = answer.strip()
    if is_refusal(text):
        return []
    pieces = []
    for s, e in sentence_spans(text):
        piece = text[s:e]
        lead = MARKER.match(piece)  # a marker split off the end of the previous sentence
        if lead and pieces:
            pieces[-1] = (pieces[-1][0] + lead.group(0), pieces[-1][1] + parse_markers(lead.group(0)))
            piece = piece[lead.end():]
        piece = piece.lstrip(" .。")  # the model's stray ". ." between sentences
        if strip_markers(piece):
            pieces.append((piece, parse_markers(piece)))
    return pieces


def _with_marker(sentence: str, n: int) -> str:
    """Put [n] before the sentence's final punctuation: "…했다 [1]."."""
    m = re.search(r"[.!?。]+[\"'”’)]*$", sentence)
    if m:
        return f"{sentence[: m.start()]} [{n}]{sentence[m.start():]}"
    return f"{sentence} [{n}]"


def _citation(n: int, cand: Candidate) -> Citation:
    text = cand.source.article.text
    start = cand.start + (len(text[cand.start : cand.end]) - len(text[cand.start : cand.end].lstrip()))
    chunk = next((c for c in cand.source.chunks if c.start <= start < c.end), cand.source.chunks[0])
    return Citation(
        n=n,
        article=cand.source.article,
        quote=cand.text,
        chunk=chunk,
        quote_start=start,
        quote_end=start + len(cand.text),
    )
