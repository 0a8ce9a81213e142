"""Small fakes that honour the real interfaces (rag.embed.Embedder, rag.generate.Generator).

They load no model, so unit tests stay fast on a 2-core machine, and they count their work
so tests can check that nothing is embedded twice.
"""
from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np


def bigrams(text: str) -> list[str]:
    """Character bigrams of the text with whitespace removed.

    >>> bigrams("주가 폭락")
    ['주가', '가폭', '폭락']
    """
    s = "".join(text.split())
    if len(s) < 2:
        return [s] if s else []
    return [s[i : i + 2] for i in range(len(s) - 1)]


def _bucket(gram: str, dim: int) -> int:
    # hashlib, not hash(): the same text must give the same vector in every process
    return int.from_bytes(hashlib.md5(gram.encode("utf-8")).digest()[:4], "little") % dim


class FakeEmbedder:
    """Hashes character bigrams into a `dim`-sized count vector, L2-normalized.

    Texts sharing many bigrams get a high cosine similarity, unrelated texts a low one.
    An empty text gets a fixed unit vector so every row stays normalized.
    """

    def __init__(self, model_id: str = "fake-bigram-64", dim: int = 64):
        self.model_id = model_id
        self.dim = dim
        self.calls: list[tuple[str, int]] = []  # ("documents" | "query", number of texts)
        self.embedded: list[str] = []  # every text embedded, in order

    @property
    def texts_embedded(self) -> int:
        return len(self.embedded)

    def reset(self) -> None:
        self.calls.clear()
        self.embedded.clear()

    def vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for gram in bigrams(text):
            v[_bucket(gram, self.dim)] += 1.0
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            v[0] = 1.0
            return v
        return v / norm

    def embed_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        titles: Sequence[str] | None = None,
    ) -> np.ndarray:
        texts = list(texts)
        self.calls.append(("documents", len(texts)))
        self.embedded += texts
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.vector(text)
        if progress and texts:
            progress(len(texts), len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        self.calls.append(("query", 1))
        self.embedded.append(text)
        return self.vector(text)


class FakeGenerator:
    """A chat model that streams replies you enqueue, and records what it was asked.

    >>> g = FakeGenerator()
    >>> g.enqueue(["하락했다", " [1]."])
    >>> "".join(g.stream([{"role": "user", "content": "?"}], max_tokens=10))
    '하락했다 [1].'
    """

    def __init__(self, model_id: str = "fake-llm"):
        self.model_id = model_id
        self._replies: deque[list[str]] = deque()
        self._choices: deque[str] = deque()
        self.choices: list[tuple[list[dict[str, str]], list[str]]] = []  # every choice asked: messages, options
        self.requests: list[tuple[list[dict[str, str]], int]] = []
        self.prefixes: list[str] = []  # the opening given to each request

    def enqueue(self, reply: str | Iterable[str]) -> None:
        """Queue one reply: a string (streamed as one piece) or its pieces."""
        self._replies.append([reply] if isinstance(reply, str) else list(reply))

    def enqueue_choice(self, option: str) -> None:
        """Queue what the model says at its next choice: one of the options' texts."""
        self._choices.append(option)

    @property
    def pending(self) -> int:
        return len(self._replies) + len(self._choices)

    def stream(self, messages: list[dict[str, str]], max_tokens: int, prefix: str = "") -> Iterator[str]:
        self.requests.append((messages, max_tokens))
        self.prefixes.append(prefix)
        if not self._replies:
            raise AssertionError("FakeGenerator.stream called with no reply enqueued")
        # each piece stands for one token, so max_tokens cuts the reply like a real model
        yield from self._replies.popleft()[:max_tokens]

    def choose(self, messages: list[dict[str, str]], options: list[str]):
        """The queued option's place among the options (a heartbeat first)."""
        self.choices.append((messages, options))
        if not self._choices:
            raise AssertionError("FakeGenerator.choose called with no choice enqueued")
        said = self._choices.popleft()
        yield ""
        return options.index(said)
