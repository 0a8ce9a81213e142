"""The evaluation's own index of a corpus, in the folder store or in PostgreSQL (`--store`).

A folder evaluation index lives under the model cache (never the user's index). In PostgreSQL
it is a schema of its own in the given database (`rag_eval_<corpus>`), never the user's
tables, and it starts with the vectors the folder evaluation index of the same corpus already
holds (the cache is keyed by what was embedded, so they are the very same vectors): comparing
the stores costs no embedding when the folder was measured first. What is missing is embedded.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ..stores.identity import identity
from ..stores.folder import catch_up, index_report, reader, vectors
from ..stores.folder import generations as store
from ..config import Config
from ..embed import Embedder
from ..errors import StoreError
from ..ingest import IngestReport
from ..stores.base import Store


def build_index(corpus, folder: Path, embedder: Embedder, config: Config, progress=None) -> Store:
    """Index the corpus into `folder` (or its PostgreSQL schema), reusing what already holds it."""
    if config.store is not None:
        return _build_postgres(corpus, folder, embedder, config, progress)
    s = config.settings
    expected = identity(embedder, s)
    if store.exists(folder):
        try:
            index = reader.open_index(folder, expected)
            if set(index.articles) == {a.id for a in corpus.articles}:
                catch_up(folder, embedder, expected)  # a run stopped while embedding goes on
                return reader.refresh(index)
        except StoreError:
            pass  # built with other settings or damaged: build it again below
    report = IngestReport(articles=list(corpus.articles))
    return index_report(report, [], folder, embedder, s, rebuild=True, progress=progress).index


def schema_of(folder: Path) -> str:
    """The PostgreSQL schema of an evaluation index kept in `folder` by the folder store.

    >>> schema_of(Path("/cache/eval/real-news-500")), schema_of(Path("/cache/eval/3f9c0a12bd44"))
    ('rag_eval_real_news_500', 'rag_eval_3f9c0a12bd44')
    """
    return "rag_eval_" + re.sub(r"[^a-z0-9_]", "_", folder.name.lower())[:40]


def _build_postgres(corpus, folder: Path, embedder: Embedder, config: Config, progress=None) -> Store:
    from ..stores.postgres import PostgresStore, writer
    from ..stores.postgres.queue import import_vectors

    spec = replace(config.store, schema=schema_of(folder))
    expected = identity(embedder, config.settings)
    try:
        index = PostgresStore.open(spec, expected)
        fresh = {a.id for a in index.all_articles()} != {a.id for a in corpus.articles}
    except StoreError:  # no index in the schema yet, or another identity
        fresh = True
    if fresh:
        writer.update(spec, expected, IngestReport(articles=list(corpus.articles)), [], config.settings, rebuild=True,
                      progress=progress)
        index = PostgresStore.open(spec, expected)
    if index.pending:
        where = vectors.folder(folder, expected.model_id, expected.dim)
        for shard in vectors.shards(where):  # the folder's vectors of this corpus, if it was measured first
            keys, matrix = vectors.read_shard(shard)
            import_vectors(spec, expected.model_id, keys, matrix)
        index.embed_pending(embedder, progress)
    return index.refresh()
