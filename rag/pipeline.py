"""The question-answering pipeline: retrieve -> prompt -> generate -> cite.

`Pipeline.load` fetches models on first use and builds the bundled index if there is none;
after that, `stream` answers a question, yielding text pieces as they are generated and
then the finished Answer (whose text has the checked, renumbered citations).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import store
from .cite import attach, is_refusal
from .config import Config, ModelSpec
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import IndexMismatch, RagError
from .generate import Generator, LlamaGenerator
from .index import IndexResult, identity, index_paths
from .index import Progress as IndexProgress
from .models import ensure_model
from .prompt import REFUSAL, build_messages, coverage, group_sources
from .retrieve import retrieve
from .rewrite import standalone
from .types import Answer

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
ANSWER_OPENING = "자료에 따르면"


def model_id(spec: ModelSpec) -> str:
    """Identifies the exact weights, so an index is only reopened with the model that built it."""
    return f"{spec.name}@{spec.sha256[:12]}" if spec.sha256 else spec.name


def load_embedder(config: Config, progress: Progress = log.info) -> SentenceTransformerEmbedder:
    path = ensure_model(config.embedder, config.cache_dir, progress)
    s = config.settings
    return SentenceTransformerEmbedder(path, model_id(config.embedder), s.embed_dtype, s.embed_batch_size, s.threads)


def load_generator(config: Config, progress: Progress = log.info) -> LlamaGenerator:
    path = ensure_model(config.llm, config.cache_dir, progress)
    return LlamaGenerator(path, model_id(config.llm), config.settings.n_ctx, config.settings.threads)


def open_or_build_index(config: Config, embedder: Embedder, progress: Progress = log.info) -> store.Index:
    """Open the index. The default index is built from the bundled articles on first use, and
    rebuilt from them and the uploaded ones when it was made by another version or model."""
    s = config.settings
    expected = identity(embedder, s)
    default = config.index_dir.resolve() == (config.articles_dir.parent / "index").resolve()
    if default and not store.exists(config.index_dir):
        progress(f"색인 만드는 중 / building the index of {config.articles_dir} (first use only)")
        index_paths([config.articles_dir], config.index_dir, embedder, s)
    try:
        return store.open_index(config.index_dir, expected)
    except IndexMismatch:
        if not default:
            raise  # a user's own index: only they know which files it was built from
        # every article of the default index is on disk, in articles/ or data/ (uploads)
        sources = [p for p in (config.articles_dir, config.data_dir) if p.is_dir()]
        progress("색인을 다시 만드는 중 / rebuilding the index: it was built by another version or model")
        index_paths(sources, config.index_dir, embedder, s, rebuild=True)
        return store.open_index(config.index_dir, expected)


@dataclass
class Pipeline:
    config: Config
    index: store.Index
    embedder: Embedder
    generator: Generator

    @classmethod
    def load(cls, config: Config, progress: Progress = log.info) -> Pipeline:
        embedder = load_embedder(config, progress)
        index = open_or_build_index(config, embedder, progress)
        generator = load_generator(config, progress)
        return cls(config, index, embedder, generator)

    def warm(self) -> None:
        """Evaluate the prompt openings (with the worked examples, and without) before the first
        question, so a chat's first answers do not wait for them (about 670 tokens, 8 s)."""
        for examples in (True, False):
            for _ in self.generator.stream(build_messages("", [], examples), 0):
                pass

    def ask(self, question: str, history: Sequence[str] = (), top_k: int | None = None) -> Answer:
        *_, answer = self.stream(question, history, top_k)
        return answer

    def stream(self, question: str, history: Sequence[str] = (), top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield generated text pieces, then the finished Answer.

        `history` holds the conversation's earlier (standalone) questions, oldest first; a
        follow-up question is rewritten with them before retrieval.
        """
        asked = check_question(question)
        s = self.config.settings
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        question = standalone(asked, list(history), self.generator)
        timings["rewrite"] = time.perf_counter() - t0
        hits = retrieve(self.index, self.embedder, question, top_k or s.top_k, s.candidates, s.dense_weight, timings)
        sources = group_sources(hits, question, s.max_sentences)
        first = None
        # The model alone refuses answers it has and answers questions it has not. A source
        # sentence holding most of the question's words is strong evidence the answer is
        # there (a refusal is then asked again); a similar chunk keeps paraphrased questions
        # ("떨어졌어" for "폭락했다"); with neither, nothing found is about the question.
        words = coverage(question, sources)
        similar = max((h.similarity or 0.0 for h in hits), default=0.0)
        text, citations = ("", [])
        t_gen = time.perf_counter()
        if words >= s.min_coverage or similar >= s.min_similarity:
            # Shown the worked examples the model can still mangle a name ("디닉스크" for
            # "딥시크"); when no sentence of the reply survives the citation check, it is
            # asked once more without them (if they were shown at all).
            prompts = [build_messages(question, sources)]
            if (plain := build_messages(question, sources, examples=False)) != prompts[0]:
                prompts.append(plain)
            for n, messages in enumerate(prompts):
                if n:
                    yield "\n\n"
                raw = []
                for piece in self._reply(messages, insist=words >= s.min_coverage):
                    first = first or time.perf_counter()
                    raw.append(piece)
                    yield piece
                t_gen = time.perf_counter()
                reply = "".join(raw)
                if is_refusal(reply):
                    break
                text, citations = attach(reply, sources, self.embedder, question)
                if citations:
                    break
        timings["first_token"] = (first or t_gen) - t0
        timings["generate"] = t_gen - t0 - timings["retrieve"] - timings["rewrite"]
        timings["cite"] = time.perf_counter() - t_gen
        timings["total"] = time.perf_counter() - t0
        refused = not citations  # an answer no source sentence supports is not given
        yield Answer(
            question=question,
            text=REFUSAL if refused else text,
            refused=refused,
            citations=() if refused else tuple(citations),
            hits=tuple(hits),
            timings={k: round(v, 3) for k, v in timings.items()},
            asked=asked if asked != question else None,
        )

    def _reply(self, messages: list[dict[str, str]], insist: bool) -> Iterator[str]:
        """The model's reply; if `insist`, a refusal is not shown but asked again with an answering opening.

        When a source sentence holds the question's words the model's refusal is mostly
        wrong (KorQuAD seed 11: 5 of 8 re-asked answers held the answer). A reply is held
        back only while it still reads like the refusal.
        """
        max_tokens = self.config.settings.max_tokens
        held: str | None = ""  # the reply so far, while it may still be the refusal
        for piece in self.generator.stream(messages, max_tokens):
            if held is None:
                yield piece
                continue
            held += piece
            if not REFUSAL.startswith(held.strip()):
                yield held
                held = None
        if held is None:
            return
        if not insist:
            yield held
            return
        yield ANSWER_OPENING
        yield from self.generator.stream(messages, max_tokens, prefix=ANSWER_OPENING)

    def add_files(self, paths: Sequence[Path], progress: IndexProgress | None = None) -> IndexResult:
        """Index more files into this pipeline's index; they are searchable when this returns."""
        result = index_paths(paths, self.config.index_dir, self.embedder, self.config.settings, progress=progress)
        if result.index is not None:
            self.index = result.index  # one assignment: a running answer keeps the index it began with
        return result


MAX_QUESTION = 1000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour codes pasted with the text
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_question(question: str) -> str:
    """The question cleaned of control characters, or a RagError saying what to fix."""
    # invisible characters are deleted (they sit inside words); line breaks and tabs are spaces
    question = _INVISIBLE.sub("", _ANSI.sub("", question or ""))
    question = " ".join(_CONTROL.sub(" ", question).split())
    if not question:
        raise RagError("질문이 비어 있습니다 / The question is empty: type a question.")
    if len(question) > MAX_QUESTION:
        raise RagError(
            f"질문이 너무 깁니다 (최대 {MAX_QUESTION:,}자, 현재 {len(question):,}자) / The question is too "
            f"long ({len(question):,} characters; at most {MAX_QUESTION:,}): ask about one thing at a time."
        )
    if not re.search(r"\w", question):
        raise RagError("질문에 글자가 없습니다. 단어로 질문해 주세요 / The question has no words: ask in words.")
    return question
