"""Text generation: the Generator contract and its llama-cpp-python implementation."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .errors import ModelError

log = logging.getLogger(__name__)


class Generator(Protocol):
    model_id: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Yield the reply to a chat, piece by piece."""
        ...


class LlamaGenerator:
    """A GGUF chat model on the CPU, loaded once per process.

    Greedy decoding (temperature 0) keeps answers reproducible for evaluation.
    """

    def __init__(self, path: Path, model_id: str, n_ctx: int = 4096, threads: int = 0):
        from llama_cpp import Llama

        threads = threads or os.cpu_count() or 2
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=512,
                verbose=False,
            )
        except (ValueError, RuntimeError) as e:
            raise ModelError(
                f"Could not load the language model at {path} ({e}). Delete the file and run "
                "`rag models pull` again."
            ) from None
        self.model_id = model_id

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        chunks = self._llm.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=0.0,
            top_k=1,
            repeat_penalty=1.0,
            max_tokens=max_tokens,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
