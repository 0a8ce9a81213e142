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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .check import asks_how, asks_why
from .config import Settings
from .embed import Embedder
from .korean import NAME_TAGS, key, kiwi, tokens
from .prompt import REFUSAL, shown_title
from .split import sentence_spans
from .subject import WINDOW_BEFORE, changed_subject, hangul_names, names_none_of, other_year, question_subjects
from .types import Citation, Source

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,，]\s*\d+)*)\]")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a source that an answer sentence may rest on; with `headline`, the
    article's title (shown to the model above the source: news titles carry the key fact,
    "…12시간 만에 檢 조사 마쳐", often in no body sentence shown)."""

    source: Source
    start: int
    end: int
    headline: bool = False

    @property
    def text(self) -> str:
        return self.source.article.title if self.headline else self.source.article.text[self.start : self.end].strip()

    @property
    def before(self) -> str:
        """The stretch of the article before it where its subject may have been named."""
        return self.source.article.text[max(0, self.start - WINDOW_BEFORE) : self.start]


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
    answer: str, sources: Sequence[Source], embedder: Embedder | None, settings: Settings, question: str = "",
    off_topic: frozenset[tuple[str, int]] = frozenset(), dropped: Counter | None = None,
) -> tuple[str, list[Citation]]:
    """Rewrite the answer's citation markers from alignment; return (text, citations).

    A sentence no source supports, naming a name or number that neither the sources nor
    the question hold, giving one subject's fact to another, or resting on a sentence that is
    not about what was asked (`off_topic`: (article id, start) of such sentences; -1 for a
    headline) is not said: every sentence shown is cited. `dropped` counts why sentences went.
    """
    pieces = _answer_sentences(answer)
    candidates = [Candidate(src, s, e) for src in sources for s, e in src.sentences]
    candidates += [Candidate(src, 0, 0, headline=True) for src in sources if shown_title(src.article)]
    if not pieces or not candidates:
        return strip_markers(answer), []
    known = key(" ".join([question, *(c.text for c in candidates)]))
    subjects, explains = question_subjects(question), asks_why(question) or asks_how(question)
    names = hangul_names(question)
    scores = support_matrix([strip_markers(p) for p, _ in pieces], [c.text for c in candidates], embedder, settings)
    numbers: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    out: list[str] = []
    for (piece, named), row in zip(pieces, scores):
        choice = _choose(row, candidates, named, settings)
        text = strip_markers(piece)
        cand = candidates[choice] if choice is not None else None
        where = (cand.source.article.id, -1 if cand.headline else cand.start) if cand else None
        why = _unsaid(text, cand, where, known, subjects, explains, names, question, off_topic, out)
        if why:
            if dropped is not None:
                dropped[why] += 1
            continue
        if where not in numbers:
            numbers[where] = len(numbers) + 1
            citations.append(_citation(numbers[where], cand))
        out.append(_with_marker(text, numbers[where]))
    return " ".join(out), citations


def _unsaid(text: str, cand: Candidate | None, where, known: str, subjects: set[str], explains: bool, names: set[str],
            question: str, off_topic: frozenset, out: list[str]) -> str | None:
    """Why the answer sentence is not said (None: it is)."""
    if cand is None:
        return "unsupported"
    if invented(text, known) or (cand.headline and invented(text, key(cand.text))):  # a title shares the names, not the story's numbers
        return "invented"
    if changed_subject(text, cand.text, cand.before, subjects, explains) or other_year(question, cand.text):
        return "other-subject"
    if names_none_of(names, f"{cand.source.article.title} {cand.source.article.text}"):
        return "other-subject"
    if where in off_topic:  # true, but not about what was asked (a distractor's sentence)
        return "off-topic"
    if any(repeats(text, earlier) for earlier in out):
        return "repeat"
    return None


def repeats(sentence: str, earlier: str) -> bool:
    """The sentence says again what an earlier one said: its names and numbers are all the
    earlier's, as are most of its words (a small model restates its answer: "이는 …을 나타냅니다").

    >>> repeats("이는 무 가격이 4월에 829원을 기록한 후 9월에 2139원으로 29% 올랐음을 나타냅니다.",
    ...         "무 가격은 4월 100g에 829원이었지만, 9월 2139원으로 29% 올랐다 [1].")
    True
    >>> repeats("배추 가격도 58% 올랐다.", "무 가격은 29% 올랐다 [1].")
    False
    """
    words, before = set(tokens(sentence)), set(tokens(strip_markers(earlier)))
    facts = {t.form.lower() for t in kiwi().tokenize(sentence) if t.tag in NAME_TAGS}
    return bool(facts) and facts <= before and len(words & before) >= 0.6 * len(words)


def support_matrix(answer_sents: list[str], source_sents: list[str], embedder: Embedder | None, settings: Settings) -> np.ndarray:
    """score[i, j]: how well source sentence j supports answer sentence i (0..1)."""
    sources = [(set(tokens(s)), key(s)) for s in source_sents]
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

    >>> sorted(invented("1위는 화웨이입니다. 1,300대가 팔렸습니다.", key("애플이 1위, 1300대 판매")))
    ['화웨이']
    >>> invented("광주교도소입니다.", key("광주교도소에서 수감되었다"))
    set()
    """
    return {k for t in kiwi().tokenize(sentence) if t.tag in NAME_TAGS and (k := key(t.form)) not in known}


def _overlap(answer_words: set[str], source_words: set[str], source_text: str) -> float:
    """Share of the answer sentence's content words found in the source sentence.

    A word of two letters or more also counts when it is in the source's text: a name is
    often one word in a short answer and two in the source ("광주교도소입니다", "광주교도소에서").

    >>> _overlap({"광주교도소"}, {"광주", "교도소", "수감"}, "광주교도소에서수감되었다")
    1.0
    """
    found = [w for w in answer_words if w in source_words or (len(w) > 1 and key(w) in source_text)]
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
    if cand.headline:
        return Citation(n=n, article=cand.source.article, quote=cand.text, chunk=cand.source.chunks[0], quote_start=0, quote_end=0, headline=True)
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
