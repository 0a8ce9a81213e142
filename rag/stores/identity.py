"""What an index was built with: the identity every store records and opens only with.

The folder keeps it in its generation file, PostgreSQL in its `rag_identity` row; both refuse
to open with another one (an index whose vectors or BM25 words were made otherwise would
silently match other words).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from .. import korean

if TYPE_CHECKING:
    from ..config import Settings
    from ..embed import Embedder

SCHEMA_VERSION = 5  # the layout of what a store keeps: a store of another layout is rebuilt, never misread


@dataclass(frozen=True)
class Identity:
    """What an index was built with; it opens only with the same. Whatever changes the stored
    vectors or BM25 words belongs here, so no hand-bumped number has to notice a change."""

    model_id: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    sentences: str  # the sentence splitter chunks are cut on
    words: dict  # how BM25 words are cut (korean.identity())
    bm25_k1: float
    bm25_b: float
    schema_version: int

    def differences(self, other: Identity) -> list[str]:
        """"name = what `other` was built with (needed: ours)" for each field that differs."""
        return [
            f"{f.name} = {getattr(other, f.name)!r} (needed: {getattr(self, f.name)!r})"
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


def identity(embedder: Embedder, settings: Settings) -> Identity:
    """What an index built by this embedder with these settings records, and is checked against."""
    return Identity(
        model_id=embedder.model_id,
        dim=embedder.dim,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        sentences="kiwi",
        words=korean.identity(),
        bm25_k1=settings.bm25_k1,
        bm25_b=settings.bm25_b,
        schema_version=SCHEMA_VERSION,
    )
