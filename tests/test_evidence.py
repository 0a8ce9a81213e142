"""Which sentences answer (rag/evidence.py)."""
from __future__ import annotations

from fakes import FakeEmbedder

from rag.asked import parse
from rag.evidence import rank
from rag.ingest import make_article
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
    return rank(parse(question), hits(*articles), embedder)[0].text


def test_a_why_question_is_answered_by_the_cause_not_by_the_sentence_sharing_most_words():
    assert "여파로" in best("엔비디아 주가는 왜 떨어졌어?", NVIDIA, GOOGLE)


def test_a_count_question_is_answered_by_the_count_not_by_a_caption_sharing_its_words():
    assert "148만여 명" in best("안동 탈춤 페스티벌 방문객 몇 명이었어?", FESTIVAL)


def test_a_predicate_is_matched_by_meaning():
    asked = parse("엔비디아 주가 왜 떨어졌어?")
    assert asked.meanings == {"down"} and asked.kind_name == "cause"


def test_a_question_sharing_no_word_is_matched_by_the_sentences_own_embedding():
    embedder = FakeEmbedder()
    assert "148만여" in best("148만여 명이 다녀갔다는데?", FESTIVAL, embedder=embedder) or embedder.calls == []
    embedder.reset()
    best("Why did Nvidia fall?", NVIDIA, GOOGLE, embedder=embedder)
    assert embedder.calls[0] == ("documents", len(rank(parse("Why did Nvidia fall?"), hits(NVIDIA, GOOGLE))))


def test_every_candidate_gets_a_probability_best_first():
    ranked = rank(parse("엔비디아 주가는 왜 떨어졌어?"), hits(NVIDIA, GOOGLE))
    scores = [e.score for e in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert {e.article.id for e in ranked} == {NVIDIA.id, GOOGLE.id}


MARKET = make_article(
    "28일 미국 증시는 혼조세로 출발했다. 나스닥 지수는 0.6% 상승했다. 전 날 17% 폭락한 엔비디아는 이 날 1.4% 반등했다. "
    "엔비디아는 전 날 하락으로 시가총액이 5,930억달러 감소했다. 역시 폭락했던 오라클은 2% 올랐다. "
    "그러나 하락폭에 비해 반등폭이 미미해 중국발 딥시크의 저렴한 AI 쇼크로부터 회복되지 못한 모습을 보이고 있다.", "market.txt", line=1)


def test_a_cause_told_in_the_articles_second_chunk_ranks_as_the_article_not_as_a_lesser_hit():
    # the cause sentence names no 엔비디아 (the sentences before do) and sits in the top article's second chunk
    first, second = chunk_article(MARKET, 120, 0)[:2]
    ranked = rank(parse(NVIDIA_QUESTION), [Hit(first, MARKET, 0.5, similarity=0.51), Hit(second, MARKET, 0.4, similarity=0.56),
                                                                 Hit(chunk_article(GOOGLE, 400, 0)[0], GOOGLE, 0.3, similarity=0.4)])
    assert "딥시크" in ranked[0].text, [e.text for e in ranked[:3]]
    assert {e.rank for e in ranked if e.article.id == MARKET.id} == {0}


NVIDIA_QUESTION = "엔비디아 주가는 왜 떨어졌어?"


def test_what_kind_of_company_is_answered_by_the_noun_set_before_its_name():
    startup = make_article("호주 정부는 딥시크의 보안 위험을 이유로 딥시크 사용을 금지했다. 중국 인공지능 스타트업 딥시크가 새 모델을 공개했다.",
                           "deepseek.txt", line=1)
    assert parse("딥시크는 어떤 회사야?").kind_name == "describe"
    assert "스타트업" in best("딥시크는 어떤 회사야?", startup)
