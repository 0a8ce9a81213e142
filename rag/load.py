"""Loading: the models of a profile (fetched on first use) and the index, into a Pipeline;
and the one place that picks the index's home, the folder or PostgreSQL (`config.store`).

The default index (`Config.default_index`: the one models.yaml names) holds only articles
that are on disk in `articles/` or `data/`, so it is built on first use and rebuilt when an
update changed what an index records. A user's own index (`--index-dir`) is only ever
opened: only they know which files it was built from. So is a PostgreSQL store: `rag index`
fills it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from . import probe, stores
from .config import Config, ModelSpec, load_config
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import ConfigError, IndexMismatch
from .generate import Generator, LlamaGenerator
from .ingest import read_paths
from .models import ensure_model
from .pipeline import Pipeline
from .stores import CatchUp, IndexResult, Store
from .stores.identity import identity

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def load_pipeline(config: Config, progress: Progress = log.info, generator: bool = True) -> Pipeline:
    """The profile's models and the index; without the language model when `generator` is False
    (a timeline asks none)."""
    reach_store(config)
    embedder = load_embedder(config, progress)
    index = open_index(config, embedder, progress)
    return Pipeline(config, index, embedder, load_generator(config, progress) if generator else None)


def with_profile(pipeline: Pipeline, profile: str) -> Pipeline:
    """The same index and embedder with another profile's language model."""
    old = pipeline.config
    config = load_config(old.source, profile, None if old.default_index else old.index_dir, llm_servers=old.llm_servers)
    if config.llm_servers and config.llm != old.llm:
        raise ConfigError(
            f"Profile '{profile}' uses another language model, and the llama.cpp servers run {old.llm.name}: "
            "start servers with that model, or use the profile without --llm-server.",
            "이 프로필은 다른 언어 모델을 쓰는데, 언어 모델 서버는 지금 모델을 실행합니다. 서버를 그 모델로 다시 시작하세요.",
        )
    if config.embedder != old.embedder:
        raise ConfigError(
            f"Profile '{profile}' uses another embedding model: rebuild the index with `rag index --rebuild`.",
            "이 프로필은 다른 임베딩 모델을 써서 색인을 다시 만들어야 합니다. `rag index --rebuild`를 쓰세요.",
        )
    return Pipeline(config, pipeline.index, pipeline.embedder, load_generator(config))


def model_id(spec: ModelSpec) -> str:
    """Identifies the exact weights, so an index is only reopened with the model that built it."""
    return f"{spec.name}@{spec.sha256[:12]}" if spec.sha256 else spec.name


def load_embedder(config: Config, progress: Progress = log.info) -> SentenceTransformerEmbedder:
    path = ensure_model(config.embedder, config.cache_dir, progress)
    s = config.settings
    return SentenceTransformerEmbedder(path, model_id(config.embedder), s.embed_dtype, s.embed_batch_size, s.threads)


def load_generator(config: Config, progress: Progress = log.info) -> Generator:
    """The profile's language model, loaded here; or, with `llm_servers`, a client of those
    servers (no GGUF fetched or loaded: the servers run it)."""
    if config.llm_servers:
        from .remote import HttpGenerator
        from .stores.address import redact

        progress(f"언어 모델 서버 / language model servers: {', '.join(redact(u) for u in config.llm_servers)}")
        return HttpGenerator(config.llm_servers, model_id(config.llm))
    path = ensure_model(config.llm, config.cache_dir, progress)
    probe.ensure_runs(path, config.cache_dir, progress)  # a build that crashes this CPU is told, not a vanished process
    return LlamaGenerator(path, model_id(config.llm), config.settings.n_ctx, config.settings.threads)


def open_index(config: Config, embedder: Embedder, progress: Progress = log.info) -> Store:
    """Open the index; the default one is built, or rebuilt, from the articles on disk."""
    expected = identity(embedder, config.settings)
    if config.default_index and config.store is None and not stores.exists(None, config.index_dir):
        progress(f"색인 만드는 중 / building the index of {config.articles_dir} (first use only)")
        _build(config, embedder, [config.articles_dir])
    try:
        return stores.open_store(config.store, config.index_dir, expected)
    except IndexMismatch:
        if not config.default_index or config.store is not None:
            raise
        progress("색인을 다시 만드는 중 / rebuilding the index: it was built by another version or model")
        _build(config, embedder, [p for p in (config.articles_dir, config.data_dir) if p.is_dir()], rebuild=True)
        return stores.open_store(None, config.index_dir, expected)


def _build(config: Config, embedder: Embedder, paths: list[Path], rebuild: bool = False) -> None:
    update_index(config, embedder, paths, rebuild)
    embed_backlog(config, embedder)


def update_index(config: Config, embedder: Embedder, paths: Iterable[Path | str], rebuild: bool = False,
                 progress=None) -> IndexResult:
    """Bring the configured store up to date with these files: searchable by keyword on return
    (vectors follow with `embed_backlog`). A PostgreSQL store gets its tables on first use."""
    paths = [Path(p) for p in paths]
    expected = identity(embedder, config.settings)
    return stores.update(config.store, config.index_dir, expected, read_paths(paths), paths, config.settings, rebuild, progress)


def embed_backlog(config: Config, embedder: Embedder, progress=None) -> CatchUp:
    """Embed the configured store's chunks that have no vector yet (a PostgreSQL store: as one
    worker of many)."""
    return stores.embed_backlog(config.store, config.index_dir, identity(embedder, config.settings), embedder, progress)


def reach_store(config: Config) -> None:
    """Connect to a PostgreSQL store once, before any model loads: a server that is down or
    refuses the login is told in one line at once, not after half a minute of loading."""
    stores.reach(config.store)
