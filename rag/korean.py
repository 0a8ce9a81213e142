"""Korean words: the one Kiwi analyzer, every part-of-speech tag set, content-word tokens.

Whitespace fails Korean: "엔비디아는" and "엔비디아가" are different words to it. Kiwi splits
off particles and endings, so BM25, the answer gate and the citation check all see nouns,
foreign words, numbers and verb/adjective stems. They must see the same words: the tag
set below is part of an index's identity (`identity()`), so an index whose BM25 words were cut
with another set refuses to open instead of silently matching other words.
"""
from __future__ import annotations

import re
from functools import lru_cache

# nouns, proper nouns, numerals, foreign words, hanja, numbers, verb/adjective stems, roots
CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "SL", "SH", "SN", "VV", "VA", "XR"})
# what a fact turns on: a name, a foreign word, a number, hanja (an invented one is a slip)
NAME_TAGS = frozenset({"NNP", "SL", "SN", "SH"})
# the words of a bare follow-up ("그럼 브로드컴은?") and of an entity
NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SN", "SH", "NR"})
# what can open a question's subject ("엔비디아 주가는…") and what can continue it ("그록 3")
SUBJECT_TAGS = frozenset({"NNP", "SL", "NNG"})
SUBJECT_TAIL_TAGS = frozenset({"NNP", "SL", "SN"})
PROPER_TAGS = frozenset({"NNP", "SL"})
# what a noun phrase is made of, back from its head ("중국발 딥시크의 저렴한 AI 쇼크")
PHRASE_TAGS = frozenset({"NNG", "NNP", "NNB", "SL", "SN", "SH", "NR", "XSN", "XPN", "JKG", "MM", "XR", "XSA", "ETM", "VA", "SSO", "SSC", "SW"})



def identity() -> dict:
    """How content words are cut, as an index manifest records it."""
    return {"analyzer": "kiwi", "tags": sorted(CONTENT_TAGS), "lowercase": True}


@lru_cache(maxsize=1)
def kiwi():
    """One shared Kiwi analyzer (loading its model takes about a second)."""
    from kiwipiepy import Kiwi

    return Kiwi()


def key(text: str) -> str:
    """A text as names and numbers are compared: lowercase, without spaces or thousands commas.

    >>> key("시가총액 5,930억 달러"), key("오픈 AI")
    ('시가총액5930억달러', '오픈ai')
    """
    return re.sub(r"[\s,]", "", text.lower())


def tokens(text: str) -> list[str]:
    """Content-word tokens of a Korean text, particles and endings dropped.

    >>> tokens("엔비디아 주가는 왜 떨어졌어?")
    ['엔비디아', '주가', '떨어지']
    """
    return _content(kiwi().tokenize(text))


def tokens_many(texts: list[str]) -> list[list[str]]:
    """`tokens` of many texts at once (Kiwi analyses a batch faster)."""
    return [_content(toks) for toks in kiwi().tokenize(texts)]


def analyse_many(texts: list[str]):
    """Kiwi's sentences of each text, each with its tokens (one analysis gives both)."""
    return kiwi().split_into_sents(texts, return_tokens=True)


def positioned(sentences) -> list[tuple[int, str]]:
    """(offset in the text, word) of the content words of analysed sentences, in order."""
    return [(t.start, t.form.lower()) for s in sentences for t in s.tokens if _is_content(t)]


def _content(toks) -> list[str]:
    return [t.form.lower() for t in toks if _is_content(t)]


def _is_content(token) -> bool:
    return token.tag.split("-")[0] in CONTENT_TAGS
