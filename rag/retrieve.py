"""Hybrid retrieval: dense (FAISS) and BM25 candidates, fused by weighted z-scores."""
from __future__ import annotations

from .config import Settings
from .embed import Embedder
from .fuse import fuse
from .reader import Index
from .types import Hit


def retrieve(index: Index, embedder: Embedder, question: str, words: list[str], settings: Settings, k: int | None = None) -> list[Hit]:
    """The k (default: top_k) best chunks for a question whose content words are `words`,
    each carrying its dense and BM25 rank."""
    dense, sparse = search_both(index, embedder, question, words, settings.candidates)
    return fused_hits(index, dense, sparse, settings.dense_weight, k or settings.top_k)


def search_both(index: Index, embedder: Embedder, question: str, words: list[str], n: int) -> tuple[dict[int, float], dict[int, float]]:
    """{chunk id: score} of the n best chunks by dense similarity and by BM25."""
    return index.dense.search(embedder.embed_query(question), n), index.sparse.search(words, n)


def fused_hits(index: Index, dense: dict[int, float], sparse: dict[int, float], dense_weight: float, k: int) -> list[Hit]:
    return [
        Hit(
            chunk=(chunk := index.chunk(f.id)),
            article=index.articles[chunk.article_id],
            score=f.score,
            dense_rank=f.dense_rank,
            sparse_rank=f.sparse_rank,
            similarity=dense.get(f.id),
        )
        for f in fuse(dense, sparse, dense_weight)[:k]
    ]
