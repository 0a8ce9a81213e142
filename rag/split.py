"""Korean sentences (kiwipiepy) and chunks on sentence boundaries (langchain-text-splitters).

Every sentence and chunk is a (start, end) span of the article text, so a citation can
point at the exact characters it rests on.
"""
from __future__ import annotations

import re
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter, TextSplitter

from .korean import kiwi
from .types import Article, Chunk

# Kiwi splits "했습니다.최근" but not a sentence glued to a number or a Latin word
# ("상승했다.10년만기"); a period right after a Hangul syllable never is a decimal point.
_GLUED = re.compile(r"(?<=[가-힣][.!?])(?=[0-9A-Za-z])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, splitting glued sentences but not decimals or quotes.

    >>> t = "0.6% 상승했다.10년만기 국채 금리는 4.54%였다.최근 반등했다."
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['0.6% 상승했다.', '10년만기 국채 금리는 4.54%였다.', '최근 반등했다.']
    """
    return [piece for span in _spans(text, kiwi().split_into_sents(text)) for piece in _off_caption(text, *span)]


# A photo caption ends with its source after a slash ("…교수. /AP 연합뉴스", "…/뉴스1") and has
# no full stop, so Kiwi glues it to the sentence after it; the source is where it ends.
_CAPTION_END = re.compile(r"(?:(?<=\S)\s?|^)/[가-힣A-Za-z][^\s/]{0,11}(?:\s(?:연합뉴스|뉴스1|뉴시스))?(?=\s+\S)", re.MULTILINE)


def _off_caption(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span, or the caption and the sentence glued to it as two spans.

    >>> t = "빅터 앰브로스 교수. /AP 연합뉴스 올해의 노벨 의학상은 ... 돌아갔다."
    >>> [t[s:e] for s, e in _off_caption(t, 0, len(t))]
    ['빅터 앰브로스 교수. /AP 연합뉴스', '올해의 노벨 의학상은 ... 돌아갔다.']
    >>> t = "서울북부지역본부/뉴스1 국민연금 수급자가 700만명을 넘어섰다. 1/4 분기에"
    >>> [t[s:e] for s, e in _off_caption(t, 0, len(t))]
    ['서울북부지역본부/뉴스1', '국민연금 수급자가 700만명을 넘어섰다. 1/4 분기에']
    """
    m = _CAPTION_END.search(text, start, end)
    if m is None:
        return [(start, end)]
    rest = len(text[m.end() : end]) - len(text[m.end() : end].lstrip())
    return [(start, m.end()), *_off_caption(text, m.end() + rest, end)]


def _spans(text: str, sents) -> list[tuple[int, int]]:
    spans = []
    for sent in sents:
        cuts = [sent.start, *(sent.start + m.start() for m in _GLUED.finditer(sent.text)), sent.end]
        spans += [(a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]
    return spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


class SentenceSplitter(TextSplitter):
    """A langchain splitter whose pieces are Kiwi sentences, merged up to chunk_size with overlap
    (`sentences`: Kiwi's sentences of the text, when they were already analysed)."""

    def __init__(self, sentences=None, **kwargs):
        super().__init__(**kwargs)
        self._sentences = sentences

    def split_text(self, text: str) -> list[str]:
        pieces = []
        for start, end in _covering_spans(text, self._sentences):
            piece = text[start:end]
            if len(piece) > self._chunk_size:  # a run-on "sentence": cut at commas and spaces
                pieces += _long_splitter(self._chunk_size).split_text(piece)
            else:
                pieces.append(piece)
        return self._merge_splits(pieces, "")


def chunk_article(article: Article, size: int, overlap: int, first_id: int = 0, sentences=None) -> list[Chunk]:
    """Split an article into chunks that keep their character offsets in the article."""
    splitter = SentenceSplitter(sentences, chunk_size=size, chunk_overlap=overlap, strip_whitespace=True)
    chunks, cursor = [], 0
    for piece in splitter.split_text(article.text):
        start = article.text.find(piece, cursor)  # pieces are exact substrings, in order
        end = start + len(piece)
        chunks.append(Chunk(first_id + len(chunks), article.id, piece, start, end))
        cursor = start + 1
    return chunks


def _covering_spans(text: str, sentences=None) -> list[tuple[int, int]]:
    """Sentence spans extended so that together they cover the text with no gap."""
    # Kiwi's sentences as they are (captions glued): the chunks, and so the index, stay as built
    spans = _spans(text, kiwi().split_into_sents(text) if sentences is None else sentences)
    if not spans:
        return [(0, len(text))] if text.strip() else []
    covering = []
    for i, (start, _) in enumerate(spans):
        begin = 0 if i == 0 else start
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        covering.append((begin, end))
    return covering


@lru_cache(maxsize=8)
def _long_splitter(size: int) -> RecursiveCharacterTextSplitter:
    # keep separators and spaces so the pieces join back into the exact original text
    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=0, separators=[", ", " ", ""], keep_separator="end", strip_whitespace=False
    )
