"""Embeddings: the Embedder contract and its sentence-transformers implementation.

Vectors are float32 and L2-normalized, so inner product is cosine similarity.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str  # recorded in the index manifest; an index only opens with the same id
    dim: int

    def embed_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        titles: Sequence[str] | None = None,
    ) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def cpu_has_bf16() -> bool:
    """bfloat16 matmuls are fast only with native support (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder:
    """A sentence-transformers model with its own query/document prompts.

    sentence-transformers already sorts each encode call by text length, so batches hold
    texts of similar length and little padding.
    """

    def __init__(self, path: Path, model_id: str, dtype: str, batch_size: int, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        use_bf16 = dtype == "bfloat16" or (dtype == "auto" and cpu_has_bf16())
        try:
            self._model = SentenceTransformer(
                str(path),
                device="cpu",
                local_files_only=True,
                model_kwargs={"torch_dtype": torch.bfloat16 if use_bf16 else torch.float32},
            )
        except Exception as e:  # a broken folder surfaces as many exception types
            raise ModelError(
                f"Could not load the embedding model at {path} ({type(e).__name__}: {e}). "
                "Delete that folder and run `rag models pull` again."
            ) from None
        self.model_id = model_id
        self.dim = int(self._model.get_embedding_dimension())
        self.batch_size = batch_size
        prompts = getattr(self._model, "prompts", {}) or {}
        self._doc_prompt = prompts.get("document", "")
        self._query_prompt = "query" if "query" in prompts else None
        log.info("embedder %s loaded (%s, dim %d)", model_id, "bfloat16" if use_bf16 else "float32", self.dim)

    def embed_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        titles: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Document vectors; a chunk's article title goes into the model's document prompt
        ("title: … | text: …" for EmbeddingGemma), which helps later chunks of an article."""
        texts = [self._with_prompt(t, titles[i] if titles else None) for i, t in enumerate(texts)]
        out = []
        step = self.batch_size * 8  # report progress every few batches
        for i in range(0, len(texts), step):
            out.append(self._encode(texts[i : i + step], None))
            if progress:
                progress(min(i + step, len(texts)), len(texts))
        return np.vstack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def _with_prompt(self, text: str, title: str | None) -> str:
        prompt = self._doc_prompt
        if title and "title: none" in prompt:
            prompt = prompt.replace("title: none", "title: " + " ".join(title.split()))
        return prompt + text

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
