"""Hybrid retrieval: dense (FAISS) and BM25 candidates, fused by weighted z-scores."""
from __future__ import annotations

import time

from .embed import Embedder
from .fuse import fuse
from .sparse import tokens
from .store import Index
from .types import Hit


def retrieve(
    index: Index,
    embedder: Embedder,
    question: str,
    k: int,
    candidates: int = 50,
    dense_weight: float = 0.5,
    timings: dict[str, float] | None = None,
) -> list[Hit]:
    """The k best chunks for a question, each carrying its dense and BM25 rank."""
    t0 = time.perf_counter()
    dense, sparse = search_both(index, embedder, question, candidates, timings)
    hits = fused_hits(index, dense, sparse, dense_weight, k)
    if timings is not None:
        timings["retrieve"] = time.perf_counter() - t0
    return hits


def search_both(
    index: Index, embedder: Embedder, question: str, n: int, timings: dict[str, float] | None = None
) -> tuple[dict[int, float], dict[int, float]]:
    """{chunk id: score} of the n best chunks by dense similarity and by BM25."""
    t0 = time.perf_counter()
    dense = index.dense.search(embedder.embed_query(question), n)
    if timings is not None:
        timings["embed_query"] = time.perf_counter() - t0
    by_position = index.sparse.search(tokens(question), n)
    return dense, {index.chunks[pos].id: score for pos, score in by_position.items()}


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
