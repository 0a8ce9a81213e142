"""Text generation: the Generator contract and its llama-cpp-python implementation."""
from __future__ import annotations

import logging
import os
import time
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
        self.last_stats: dict = {}

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Stream the reply. A prompt that starts like the previous one (the fixed system
        prompt) reuses its KV state: llama-cpp-python evaluates only the new tokens."""
        chunks = self._llm.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=0.0,
            top_k=1,
            repeat_penalty=1.0,  # a penalty also hits words copied from the sources ("딥시크" → "디시크")
            max_tokens=max_tokens,
        )
        t0, first, prompt_tokens, pieces = time.perf_counter(), None, 0, 0
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                if first is None:
                    first, prompt_tokens = time.perf_counter(), self._llm.n_tokens - 1
                pieces += 1
                yield piece
        end = time.perf_counter()
        generated = self._llm.n_tokens - prompt_tokens if first else 0
        self.last_stats = {
            "prompt_tokens": prompt_tokens,
            "generated_tokens": generated,
            "first_token_s": round((first or end) - t0, 3),
            "generation_tps": round((generated - 1) / (end - first), 2) if first and generated > 1 and end > first else 0.0,
        }

    def forget(self) -> None:
        """Drop the reusable prefix, so the next prompt is evaluated from scratch."""
        self._llm.reset()

    def raw_speed(self, prompt_tokens: int = 512, gen_tokens: int = 128) -> dict:
        """llama.cpp's own prompt and generation speed here, without any pipeline around it."""
        filler = "국제 유가가 하루 만에 크게 올랐다. 중동 지역의 긴장이 높아졌기 때문이다. " * 200
        tokens = self._llm.tokenize(filler.encode("utf-8"), add_bos=False)[:prompt_tokens]
        self._llm.reset()
        t0 = time.perf_counter()
        self._llm.eval(tokens)
        t1 = time.perf_counter()
        for _ in range(gen_tokens):
            token = self._llm.sample(top_k=1, temp=0.0)
            self._llm.eval([token])
        t2 = time.perf_counter()
        self._llm.reset()
        return {
            "prompt_tokens": len(tokens),
            "prompt_tps": round(len(tokens) / (t1 - t0), 2),
            "generation_tps": round(gen_tokens / (t2 - t1), 2),
        }

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
