"""Which sentences answer (rag/evidence.py) and which the model is shown (prompt.evidence_sources)."""
from __future__ import annotations

from fakes import FakeEmbedder

from rag.evidence import Asked, rank
from rag.ingest import make_article
from rag.korean import tokens
from rag.prompt import evidence_sources
from rag.split import chunk_article
from rag.types import Hit

NVIDIA = make_article(
    "엔비디아 주가는 27일 17% 떨어졌다. 엔비디아는 AI 칩 시장의 1위 기업이다. 중국 딥시크가 값싼 AI 모델을 내놓은 여파로 "
    "미국 기술주가 폭락했다. 이날 나스닥 지수는 3% 내렸다.", "nvidia.txt", line=1)
GOOGLE = make_article("구글 주가는 0.4% 떨어졌다. 구글은 작년 8월 미국 법무부와의 소송에서 패소했다.", "google.txt", line=1)
FESTIVAL = make_article(
    "/안동시 올해 안동 탈춤 페스티벌이 역대 가장 많은 방문객을 기록하며 막을 내렸다. 안동시에 따르면 열흘간 148만여 명이 "
    "다녀갔다. 축제에는 25개국 공연단이 참가했다.", "festival.txt", line=1)


def hits(*articles) -> list[Hit]:
    return [Hit(chunk_article(a, 400, 0)[0], a, 1.0 / (n + 1)) for n, a in enumerate(articles)]


def best(question: str, *articles, embedder=None) -> str:
    return rank(question, tokens(question), hits(*articles), embedder)[0].text


def test_a_why_question_is_answered_by_the_cause_not_by_the_sentence_sharing_most_words():
    assert "여파로" in best("엔비디아 주가는 왜 떨어졌어?", NVIDIA, GOOGLE)


def test_a_count_question_is_answered_by_the_count_not_by_a_caption_sharing_its_words():
    assert "148만여 명" in best("안동 탈춤 페스티벌 방문객 몇 명이었어?", FESTIVAL)


def test_a_predicate_is_matched_by_meaning():
    asked = Asked.of("엔비디아 주가 왜 떨어졌어?", tokens("엔비디아 주가 왜 떨어졌어?"))
    assert asked.meanings == {"down"} and asked.kind == "why"


def test_a_question_sharing_no_word_is_matched_by_the_sentences_own_embedding():
    embedder = FakeEmbedder()
    assert "148만여" in best("148만여 명이 다녀갔다는데?", FESTIVAL, embedder=embedder) or embedder.calls == []
    embedder.reset()
    best("Why did Nvidia fall?", NVIDIA, GOOGLE, embedder=embedder)
    assert embedder.calls[0] == ("documents", len(rank("Why did Nvidia fall?", [], hits(NVIDIA, GOOGLE))))


def test_every_candidate_gets_a_probability_best_first():
    ranked = rank("엔비디아 주가는 왜 떨어졌어?", tokens("엔비디아 주가는 왜 떨어졌어?"), hits(NVIDIA, GOOGLE))
    scores = [e.score for e in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert {e.article.id for e in ranked} == {NVIDIA.id, GOOGLE.id}


def test_the_model_is_shown_the_best_sentences_with_the_neighbour_that_completes_them():
    question = "엔비디아 주가는 왜 떨어졌어?"
    ranked = rank(question, tokens(question), hits(NVIDIA, GOOGLE))
    first = next(e for e in ranked if e.text.startswith("엔비디아 주가는 27일"))
    shown = evidence_sources([first], question, 1)
    assert len(shown) == 1 and "여파로" not in shown[0].text  # the next sentence holds no cause: nothing added
    sources = evidence_sources(ranked, question, 2)
    assert sources[0].article == ranked[0].article  # [1] is the best sentence's article
    assert sum(len(s.sentences) for s in sources) <= 4
