"""Which sentences the model is shown (rag/prompt.py's group_sources)."""
from __future__ import annotations

from dataclasses import replace

from fakes import FakeEmbedder

from rag.config import Settings
from rag.ingest import make_article
from rag.prompt import group_sources
from rag.split import chunk_article
from rag.types import Hit

OTHER = make_article("공수처는 수사팀 검사들을 불기소했다. 대법원도 처분이 타당하다고 판단했다.", "a.txt", line=1)
GOLD = make_article("검찰은 도이치 모터스 주가 조작 의혹을 불기소 처분했다. 압수수색 영장은 모두 기각됐다.", "b.txt", line=2)
TWO_SENTENCES = replace(Settings(), max_sentences=2, anchor_sentences=2, sentence_window=0)


def hits() -> list[Hit]:
    return [Hit(chunk_article(a, 400, 0)[0], a, score) for a, score in ((OTHER, 2.0), (GOLD, 1.0))]


def test_a_question_sharing_no_word_with_the_sentences_gets_the_most_similar_one():
    """The top hit gives one sentence whatever its score; the other is the most similar."""
    question = "도이치모터스?"  # one word, "도이치모터스"; the article writes it as two
    shown = group_sources(hits(), ["도이치모터스"], TWO_SENTENCES, question, FakeEmbedder())
    assert [s.article for s in shown] == [OTHER, GOLD]
    shown = group_sources(hits(), ["도이치모터스"], TWO_SENTENCES, question)  # no embedder: the top hit's first two
    assert [s.article for s in shown] == [OTHER]
