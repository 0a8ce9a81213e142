"""The answer stage: choose -> say -> check.

- choose (evidence.py): the sentences most likely to answer, with a probability;
- say: the model is shown them (prompt.evidence_sources: one to three sentences, each with the
  neighbour that completes it) and writes the answer in their words;
- check: every answer sentence must rest on a source sentence about what was asked (cite.py,
  subject.py), and the first must give what was asked (check.py).

No dead ends: when the evidence is confident and the model still fails (it refuses, its reply
fails the checks, or it leaves out what was asked), the answer is the best evidence sentence
itself, with its citation, checked like any other and marked `extractive`. When the evidence
is weak, a failed reply is a refusal.

What this replaced (each measured before it went, README "Evidence"): re-asking a refusal with
the opening "자료에 따르면", asking again without the worked examples when no sentence of a
reply survived the checks, and sentences chosen as anchors by the words they share with the
question.
"""
from __future__ import annotations

import collections.abc
import re
from collections import Counter
from dataclasses import dataclass, field

from .check import cut_loop, gives_what_asked, until_loop
from .cite import attach, is_refusal, may_be_refusal, parse_markers, strip_markers
from .config import Settings
from .embed import Embedder
from .evidence import FEATURES, NAMED, Asked, given, says_opposite
from .generate import Generator
from .korean import key, kiwi, tokens
from .prompt import build_messages, evidence_sources
from .split import sentence_spans
from .subject import WINDOW_BEFORE, changed_subject, noun_runs, question_subjects
from .types import Citation, Evidence

Shown = collections.abc.Generator[str, None, "Said"]


@dataclass(frozen=True)
class Said:
    """An answer's text and citations, or why it was refused; `extractive` when the evidence
    was said in the model's place; `dropped` counts the reply's sentences not said, by reason."""

    text: str = ""
    citations: tuple[Citation, ...] = ()
    refusal: str | None = None
    extractive: bool = False
    dropped: dict[str, int] = field(default_factory=dict)


def say(generator: Generator, embedder: Embedder | None, settings: Settings, question: str, evidence: list[Evidence],
        on_piece: collections.abc.Callable[[], None] = lambda: None) -> Shown:
    """The model's answer from the evidence, checked; streamed as it is written (a reply that
    may still become the refusal is held back). `on_piece` is called at each piece of text."""
    sources = evidence_sources(evidence, question, settings.evidence_sentences)
    reply = yield from _reply(generator, build_messages(question, sources), settings.max_tokens, on_piece)
    dropped: Counter = Counter()
    said = _checked(reply, question, sources, evidence, embedder, settings, dropped)
    best = evidence[0] if evidence else None
    if said.refusal and best is not None and best.score >= settings.evidence_confident and alone(best):
        said = _extractive(best, question, embedder, settings, dropped) or said
    return Said(said.text, said.citations, said.refusal, said.extractive, dict(dropped))


def _checked(reply: str, question: str, sources, evidence: list[Evidence], embedder, settings: Settings, dropped: Counter) -> Said:
    if is_refusal(reply):
        return Said(refusal="model")
    off_topic = frozenset((e.article.id, -1 if e.headline else e.start) for e in evidence
                          if e.share == 0 and e.score < settings.min_relevance)
    reply = _from_what_was_asked(cut_loop(reply), question)
    text, citations = attach(reply, sources, embedder, settings, question, off_topic, dropped)
    if not citations or key(strip_markers(_first(text))) != key(strip_markers(_lead(reply))):
        return Said(refusal="unsupported")  # the reply's lead was not said: what follows it answers nothing
    if _distractor(_first(text), citations, evidence, settings):
        dropped["distractor"] += 1
        return Said(refusal="not-asked")  # "구글은 … 판결을 받았다" for why Nvidia fell, with the cause shown
    if says_opposite(question, strip_markers(_first(text))):
        return Said(refusal="not-asked")  # "오라클은 … 2% 올랐다" for how much its value fell
    if _byline_only(strip_markers(_first(text)), citations):
        return Said(refusal="not-asked")  # "더지엠뉴스입니다": the outlet in the source's header
    # what was asked comes first: an answer whose first sentence lacks it ("구글은 … 판결을 받았다"
    # for why Nvidia fell) gives a true sentence that does not answer
    if not gives_what_asked(question, strip_markers(_first(text))):
        return Said(refusal="not-asked")
    return Said(text, tuple(citations))


def _distractor(first: str, citations, evidence: list[Evidence], settings: Settings) -> bool:
    """The answer's first sentence rests on a sentence the evidence ranks far below its confident
    best: the model followed a distractor that its source supports but that does not answer
    (for a why-question about Nvidia, a true sentence about Google's court ruling).

    >>> from rag.types import Article, Citation
    >>> a = Article("a", "t", "구글은 패소했다. 딥시크 쇼크 여파로 폭락했다.", "s")
    >>> ev = [Evidence(a, 10, 27, score=0.6), Evidence(a, 0, 9, score=0.2)]
    >>> c = Citation(1, a, "구글은 패소했다.", None, 0, 9)
    >>> _distractor("구글은 패소했다 [1].", [c], ev, Settings()), _distractor("구글은 패소했다 [1].", [c], ev[1:], Settings())
    (True, False)
    """
    if not evidence or evidence[0].score < settings.evidence_confident:
        return False
    cited = set(parse_markers(first))
    scores = [e.score for c in citations if c.n in cited for e in evidence
              if e.article.id == c.article.id and not e.headline and c.quote.strip() and c.quote.strip() in e.text]
    return bool(scores) and max(scores) < evidence[0].score - DISTRACTOR_GAP


# How far below the best a cited sentence may rank before the answer is taken to follow a distractor
DISTRACTOR_GAP = 0.2


def _from_what_was_asked(reply: str, question: str) -> str:
    """The reply from its first sentence that gives what was asked: the model often retells the
    story first ("17% 폭락한 엔비디아는 … 반등했다. … 딥시크 쇼크로부터 회복되지 못한 …").

    >>> _from_what_was_asked("엔비디아가 반등했다 [1]. 딥시크 쇼크 때문이다 [1].", "엔비디아 주가 왜 떨어졌어?")
    '딥시크 쇼크 때문이다 [1].'
    """
    for start, end in sentence_spans(reply):
        if gives_what_asked(question, strip_markers(reply[start:end])):
            return reply[start:]
    return reply


def _extractive(best: Evidence, question: str, embedder, settings: Settings, dropped: Counter) -> Said | None:
    """The best evidence sentence as the answer, cited and checked like a reply."""
    sources = evidence_sources([best], question, 1)
    quote = best.text if best.headline else quoted(best.text)
    text, citations = attach(quote, sources, embedder, settings, question, dropped=dropped)
    if not citations or not gives_what_asked(question, strip_markers(text)) or says_opposite(question, quote):
        return None
    # the value it gives must be the subject's, as a short reply saying only it would have to be:
    # "오픈AI의 창립자인 샘 올트먼" gives 오픈AI's founder, not 딥시크's
    cores = values(question, best)
    subjects, before = question_subjects(question), best.article.text[max(0, best.start - WINDOW_BEFORE) : best.start]
    if cores is None or (cores and all(changed_subject(f"{core}입니다.", best.text, before, subjects) for core in cores)):
        return None
    return Said(text, tuple(citations), extractive=True)


def alone(e: Evidence) -> bool:
    """Whether the sentence may stand as the answer by itself, when the model fails to say it: it
    holds most of the question's words (with its headline and the sentences before it) or its
    meaning, names the question's subject if the
    question has one and is not about another name, and does not say the opposite of what is
    asked ("브로드컴은 1% 올랐다" for how much Broadcom's value fell)."""
    f = dict(zip(FEATURES, e.features))
    held = f["context"] >= 0.5 or f["similarity"] >= 0.5  # an English question shares no word: its meaning
    return held and f["subject"] == 1 and not (f["other_subject"] or f["lacks"])


def values(question: str, e: Evidence) -> list[str] | None:
    """What the sentence gives of what is asked, as short replies would say it: the word holding
    each figure, day or verdict ("17%" for "얼마나 폭락했어?"); none for a cause or when no kind is
    asked; None for a name, whose owner a sentence cannot be trusted to tell alone ("오픈AI의
    창립자인 샘 올트먼" for who founded 딥시크).

    >>> from rag.types import Article
    >>> values("엔비디아 주가는 얼마나 폭락했어?", Evidence(Article("a", "t", "엔비디아 주가가 17% 폭락했다.", "s"), 0, 20))
    ['17%']
    """
    asked = Asked.of(question, tokens(question))
    if asked.kind in NAMED:
        return None
    if asked.kind in ("why", "describe"):
        return []
    text = e.text
    return list(dict.fromkeys(text[text.rfind(" ", 0, at) + 1 : (text.find(" ", at) + 1 or len(text) + 1) - 1].strip(".,")
                              for at, _ in given(asked, text, kiwi().tokenize(text))))


def quoted(sentence: str) -> str:
    """A sentence as an answer says it: a leading photo-caption source or outlet tag cut off, a
    full stop at the end.

    >>> quoted("/연합뉴스 엔비디아 주가가 17% 떨어졌다"), quoted("[더지엠뉴스] 중국 AI 스타트업 딥시크가 …")
    ('엔비디아 주가가 17% 떨어졌다.', '중국 AI 스타트업 딥시크가 ….')
    """
    text = re.sub(r"^(/\S+|\[[^\]\s]{1,20}\])\s*", "", sentence.strip())
    return text if re.search(r"[.!?。\"'”’]$", text) else text + "."


def _lead(reply: str) -> str:
    """The reply's first sentence (what attach makes the answer's first, if it is said)."""
    spans = [(s, e) for s, e in sentence_spans(reply) if strip_markers(reply[s:e]).strip(" .")]
    return reply[slice(*spans[0])] if spans else reply


def _byline_only(sentence: str, citations) -> bool:
    """The only names the sentence gives are a cited article's outlet or reporter ("더지엠뉴스에서
    한대입니다": the outlet in the source's header is no place).

    >>> from rag.types import Article, Citation
    >>> c = Citation(1, Article("a", "t", "x", "s", outlet="더지엠뉴스"), "x", None, 0, 1)
    >>> _byline_only("더지엠뉴스에서 한대입니다.", [c]), _byline_only("화웨이입니다.", [c])
    (True, False)
    """
    runs = [text for text, _ in noun_runs(sentence, kiwi().tokenize(sentence))]
    bylines = {key(x) for c in citations for x in (c.article.outlet, c.article.author) if x}
    return bool(runs) and all(any(key(r) in b for b in bylines) for r in runs)


def _first(text: str) -> str:
    """The answer's first sentence, with its marker."""
    m = re.search(r"\[\d+\][.!?。]?", text)
    return text[: m.end()] if m else text


def _reply(generator: Generator, messages: list[dict[str, str]], max_tokens: int, on_piece) -> collections.abc.Generator[str, None, str]:
    """Stream the model's reply and return it; a reply that reads like the refusal to the end
    is not shown (the evidence may yet answer). Heartbeats ("") always pass: the reader may stop
    at any of them."""
    pieces = until_loop(generator.stream(messages, max_tokens))
    held = ""
    for piece in pieces:
        if not piece:
            yield piece
        held += piece
        if held and not may_be_refusal(held):
            break
    else:
        return held
    shown = [held]
    on_piece()
    yield held
    for piece in pieces:
        if piece:
            on_piece()
            shown.append(piece)
        yield piece
    return "".join(shown)
