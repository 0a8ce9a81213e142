"""The memo: answers collected from a conversation, written out with one reference list.

An answer numbers its citations per sentence, so one article cited twice is [1] and [3].
A memo numbers articles instead, across all its answers: each article is listed once, in the
order the memo first cites it, and every marker is renumbered to match. Two styles: numbered
markers "[1]" with a list, or Markdown footnotes "[^1]". Plain text (for a word processor)
writes footnotes as superscript numbers.

A memo lives in the person's browser as JSON (`Note.to_dict`), so a note keeps its own
markers and references and is renumbered only when written out: removing or editing one
answer never disturbs the others.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .errors import RagError
from .export import reference, when
from .types import Answer, answer_dict

MEMO_STYLES = ("numbered", "footnote")
_MARKER = re.compile(r"\[\^?(\d+)\]")
_REFERENCES = re.compile(r"\n\s*(\*\*참고 기사\*\*|\[\^\d+\]:)[\s\S]*\Z")  # where `markdown` starts the list
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Cited:
    """What one of a note's markers points at: an article (its id, its reference line) and
    the sentence of it the answer rests on."""

    n: int
    article: str
    reference: str
    quote: str


@dataclass(frozen=True)
class Note:
    """One answer in a memo: the question as asked, the text with its own markers, what it is as of."""

    question: str
    text: str
    sources: tuple[Cited, ...] = ()
    when: str | None = None

    @classmethod
    def of(cls, answer: Answer) -> Note:
        sources = tuple(Cited(c.n, c.article.id, reference(c.article), c.quote) for c in answer.citations)
        return cls(answer.asked or answer.question, answer.text, sources, when(answer))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Note:
        """A note as the browser kept it; anything malformed is refused rather than half-read."""
        try:
            sources = tuple(Cited(int(s["n"]), str(s["article"]), str(s["reference"]), str(s["quote"])) for s in d.get("sources", ()))
            return cls(str(d["question"]), str(d["text"]), sources, d.get("when") and str(d["when"]))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise RagError(f"A memo note is malformed ({e}).", "메모의 답변 하나를 읽을 수 없습니다.") from None


def numbering(notes: list[Note]) -> dict[str, int]:
    """Each cited article's number in the memo: in order of its first marker.

    >>> a, b = Cited(1, "A", "기사 A", "a"), Cited(2, "B", "기사 B", "b")
    >>> numbering([Note("q1", "x[2] y[1].", (a, b)), Note("q2", "z[1].", (a,))])
    {'B': 1, 'A': 2}
    """
    numbers: dict[str, int] = {}
    for note in notes:
        by_n = {s.n: s for s in note.sources}
        for m in _MARKER.finditer(note.text):
            if (s := by_n.get(int(m.group(1)))) and s.article not in numbers:
                numbers[s.article] = len(numbers) + 1
    return numbers


def renumber(note: Note, numbers: dict[str, int], style: str = "numbered") -> str:
    """The note's text with memo-wide markers; one article cited twice in a row is marked once.

    >>> a = Cited(1, "A", "기사 A", "a")
    >>> renumber(Note("q", "첫째[1][2]. 둘째[2].", (a, Cited(2, "A", "기사 A", "b"))), {"A": 3})
    '첫째[3]. 둘째[3].'
    >>> renumber(Note("q", "첫째[1].", (a,)), {"A": 3}, "footnote")
    '첫째[^3].'
    """
    by_n = {s.n: s for s in note.sources}

    def marker(m: re.Match) -> str:
        s = by_n.get(int(m.group(1)))
        return _mark(numbers[s.article], style) if s else m.group(0)

    text = _MARKER.sub(marker, note.text)
    return re.sub(r"(\[\^?\d+\])\1+", r"\1", text)


def edit(notes: list[Note], i: int, text: str) -> Note:
    """Note i with its text replaced by `text`, written with the memo's numbers as shown.

    Every marker must name an article of the memo: a number that is not in the reference
    list is refused, so an edited memo never cites something nobody can check. A marker may
    name an article another answer cited; the note then keeps that reference too.
    """
    numbers = numbering(notes)
    by_number = {numbers[s.article]: s for note in notes for s in note.sources if s.article in numbers}
    own = {s.article: s.n for s in notes[i].sources}
    sources = list(notes[i].sources)

    def local(m: re.Match) -> str:
        g = int(m.group(1))
        if g not in by_number:
            raise RagError(f"[{g}] is not in the memo's reference list.",
                           f"[{g}]번 참고 기사는 메모에 없습니다. 번호를 고치거나 지우세요.")
        s = by_number[g]
        if s.article not in own:
            own[s.article] = max([x.n for x in sources], default=0) + 1
            sources.append(Cited(own[s.article], s.article, s.reference, s.quote))
        return f"[{own[s.article]}]"

    return Note(notes[i].question, _MARKER.sub(local, text.strip()), tuple(sources), notes[i].when)


def references(notes: list[Note], numbers: dict[str, int]) -> list[tuple[int, str, list[str]]]:
    """(number, reference line, the quoted sentences) for each article the memo cites."""
    by_article: dict[str, tuple[str, list[str]]] = {}
    for note in notes:
        cited = {int(m.group(1)) for m in _MARKER.finditer(note.text)}
        for s in note.sources:
            if s.n in cited and s.article in numbers:
                quotes = by_article.setdefault(s.article, (s.reference, []))[1]
                if s.quote not in quotes:
                    quotes.append(s.quote)
    return sorted((numbers[a], ref, quotes) for a, (ref, quotes) in by_article.items())


def parts(notes: list[Note], style: str = "numbered") -> tuple[list[str], list[str]]:
    """Each note's text and each reference line, numbered as the memo numbers them (the page's editor).

    >>> parts([Note("q", "답[1].", (Cited(1, "A", "기사 A", "a"),))], "footnote")
    (['답[^1].'], ['[^1] 기사 A'])
    """
    numbers = numbering(notes)
    return [renumber(n, numbers, style) for n in notes], [f"{_mark(n, style)} {ref}" for n, ref, _ in references(notes, numbers)]


def markdown(notes: list[Note], style: str = "numbered", questions: bool = True) -> str:
    """The memo as Markdown: each answer under its question (unless `questions` is False: a
    chat reply), then the references.

    >>> print(markdown([Note("q", "답[1].", (Cited(1, "A", "제목 — 한겨레. https://x", "문장."),))], "footnote"), end="")
    **질문:** q
    <BLANKLINE>
    답[^1].
    <BLANKLINE>
    [^1]: 제목 — 한겨레. https://x — “문장.”
    """
    _check_style(style)
    numbers = numbering(notes)
    parts = []
    for note in notes:
        part = ([f"**질문:** {note.question}", ""] if questions else []) + [renumber(note, numbers, style)]
        if note.when:
            part += ["", f"*{note.when}*"]
        parts.append("\n".join(part))
    refs = references(notes, numbers)
    if refs and style == "footnote":
        parts.append("\n".join(f"[^{n}]: {ref} — " + " ".join(f"“{q}”" for q in quotes) for n, ref, quotes in refs))
    elif refs:
        parts.append("**참고 기사**")
        parts += ["\n".join([f"[{n}] {ref}"] + [f"> “{q}”" for q in quotes]) for n, ref, quotes in refs]
    return "\n\n".join(parts) + "\n"


def plain(notes: list[Note], style: str = "numbered", questions: bool = True) -> str:
    """The memo as plain text for pasting into a word processor: no Markdown marks;
    footnotes become superscript numbers. Without `questions`, the answers alone (the CLI's output).

    >>> print(plain([Note("q", "답[1].", (Cited(1, "A", "제목. https://x", "문장."),))], "footnote"), end="")
    질문: q
    답¹.
    <BLANKLINE>
    참고 기사
    ¹ 제목. https://x
      “문장.”
    """
    _check_style(style)
    numbers = numbering(notes)
    parts = []
    for note in notes:
        text = renumber(note, numbers, style)
        if style == "footnote":
            text = re.sub(r"\[\^(\d+)\]", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
        parts.append("\n".join(([f"질문: {note.question}"] if questions else []) + [text] + ([f"({note.when})"] if note.when else [])))
    if refs := references(notes, numbers):
        lines = ["참고 기사"]
        for n, ref, quotes in refs:
            lines.append(f"{str(n).translate(_SUPERSCRIPT) if style == 'footnote' else f'[{n}]'} {ref}")
            lines += [f"  “{q}”" for q in quotes]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def without_references(reply: str) -> str:
    """A chat reply of ours with its reference list cut off: the answer, as a follow-up's turn.

    >>> without_references("AI 회사다[1].\\n\\n**참고 기사**\\n\\n[1] 기사. x.txt:1")
    'AI 회사다[1].'
    >>> without_references("AI 회사다[^1].\\n\\n[^1]: 기사. x.txt:1 — “문장.”")
    'AI 회사다[^1].'
    """
    return _REFERENCES.sub("", reply)


def to_markdown(answer: Answer, style: str = "numbered") -> str:
    """One answer as a memo.

    >>> to_markdown(Answer("질문?", "제공된 기사에서 답을 찾을 수 없습니다.", True))
    '**질문:** 질문?\\n\\n제공된 기사에서 답을 찾을 수 없습니다.\\n'
    """
    return markdown([Note.of(answer)], style)


def answer_json(answer: Answer, style: str = "numbered") -> dict:
    """What `rag ask --json` prints and `POST /api/ask` returns: the answer with its citations,
    hits and timings, and the answer written as a memo."""
    return {**answer_dict(answer), "memo": to_markdown(answer, style)}


def _mark(n: int, style: str) -> str:
    return f"[^{n}]" if style == "footnote" else f"[{n}]"


def _check_style(style: str) -> None:
    if style not in MEMO_STYLES:
        raise RagError(f"Unknown memo style {style!r}: use one of {', '.join(MEMO_STYLES)}.", "메모 형식은 numbered 또는 footnote입니다.")
