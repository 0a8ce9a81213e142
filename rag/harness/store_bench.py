"""`rag bench --store URL`: the folder store and PostgreSQL side by side, in one run.

- Ingest to keyword-searchable: the real news (`../shared/news`, two months) read and cut once
  (Kiwi, chunks: the same work for both stores), then written by each store.
- At each archive size (10k/50k/200k chunks; the months repeated with changed ids, random
  vectors, as `archive.py` makes them): open, retrieval p50/p95 (the question embedded, both
  retrievers, fusion: what a question costs), one article added until it is found by keyword.
  PostgreSQL is measured with exact dense search and again with HNSW (its build time too).

Nothing here loads the language model. Each store is measured in this process, one after the
other, with the same questions, vectors and articles.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..stores.identity import identity
from ..stores.folder import open_folder, vectors
from ..stores.folder.writer import write_prepared
from ..stores.plan import prepare
from ..config import Config
from ..ingest import read_paths
from ..korean import tokens
from ..retrieve import retrieve
from ..stores.address import StoreSpec
from ..stores.base import Store
from .archive import QUESTIONS, SIZES, copies
from .bench import summary

ONE = "# 제로폰 출시\n\n테스트전자는 오늘 신형 스마트폰 제로폰 X{n}을 99만원에 출시한다고 밝혔다.\n"  # a new article each time


def run_store_bench(config: Config, embedder, news: list[Path], spec: StoreSpec, sizes: tuple[int, ...] = SIZES,
                    progress=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        return _bench(config, embedder, news, spec, Path(tmp), sizes, progress)


def _bench(config: Config, embedder, news: list[Path], spec: StoreSpec, workdir: Path, sizes: tuple[int, ...], progress) -> dict:
    from ..stores.postgres import PostgresStore, queue, writer

    ident = identity(embedder, config.settings)
    t = time.perf_counter()
    articles = read_paths(news).articles
    base = prepare(articles, 0, config.settings)
    cut = time.perf_counter() - t
    n = len(base.chunks)
    report = {"store": spec.url, "articles": len(articles), "chunks": n, "cut_s": round(cut, 2), "ingest": {}, "sizes": []}
    progress(f"stores: ingest of {n:,} chunks")
    for name, write in (("folder", lambda: write_prepared(workdir / "ingest", ident, [base])),
                        ("postgresql", lambda: writer.write_prepared(replace(spec, schema="rag_bench_ingest"), ident, [base]))):
        t = time.perf_counter()
        write()
        written = time.perf_counter() - t
        report["ingest"][name] = {"write_s": round(written, 2), "searchable_chunks_per_s": round(n / (cut + written), 1)}
    keys = sorted(set(base.keys))
    matrix = _random(len(keys), ident.dim)
    for size in sizes:
        progress(f"stores: {size:,} chunks")
        folder = workdir / f"folder-{size}"
        write_prepared(folder, ident, copies(base, size))
        vectors.write_shard(vectors.folder(folder, ident.model_id, ident.dim), keys, matrix)
        t = time.perf_counter()
        opened = open_folder(folder, ident)
        row = {"chunks": size, "folder": {"open_s": round(time.perf_counter() - t, 2), **probe(opened, embedder, config, workdir)}}
        pg = replace(spec, schema=f"rag_bench_{size}")
        t = time.perf_counter()
        writer.write_prepared(pg, ident, copies(base, size))
        queue.import_vectors(pg, ident.model_id, keys, matrix)
        row["postgresql_build_s"] = round(time.perf_counter() - t, 1)
        for label, this in (("postgresql", pg), ("postgresql_hnsw", replace(pg, hnsw=True))):
            t = time.perf_counter()
            store = PostgresStore.open(this, ident)  # with hnsw: builds the index the first time
            row[label] = {"open_s": round(time.perf_counter() - t, 2), **probe(store, embedder, config, workdir)}
        report["sizes"].append(row)
    return report


def probe(store: Store, embedder, config: Config, workdir: Path) -> dict:
    """Retrieval p50/p95 over the archive questions (after one warm-up), then one article added
    until keyword search finds it."""
    retrieve(store, embedder, QUESTIONS[0], tokens(QUESTIONS[0]), config.settings)
    times = []
    for q in QUESTIONS * 2:
        t = time.perf_counter()
        retrieve(store, embedder, q, tokens(q), config.settings)
        times.append((time.perf_counter() - t) * 1000)
    one = workdir / f"one-{time.time_ns()}.md"
    one.write_text(ONE.format(n=time.time_ns()), encoding="utf-8")
    t = time.perf_counter()
    result = store.update(read_paths([one]), [one], config.settings)
    found = result.index.keyword(tokens("테스트전자 제로폰 출시"), 3)
    added = time.perf_counter() - t
    hit = any("제로폰" in chunk.text for chunk, _ in result.index.passages(found).values())
    ms = summary(times)
    return {"retrieval_ms_p50": round(ms["p50"], 1), "retrieval_ms_p95": round(ms["p95"], 1),
            "add_one_searchable_s": round(added, 3), "add_one_found": hit}


def _random(rows: int, dim: int) -> np.ndarray:
    """Unit vectors drawn at random (search time depends on how many, not on their values)."""
    v = np.random.default_rng(0).normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def format_store_bench(r: dict) -> str:
    """The comparison as the Markdown tables docs/deployment.md shows."""
    rows = [f"Stores: folder and {r['store']}; {r['articles']:,} articles, {r['chunks']:,} chunks cut in {r['cut_s']} s", "",
            "| store | written (s) | read to searchable by keyword (chunks/s) |", "| --- | --- | --- |"]
    rows += [f"| {name} | {v['write_s']} | {v['searchable_chunks_per_s']:,} |" for name, v in r["ingest"].items()]
    rows += ["", "| archive | store | open (s) | retrieval p50 / p95 (ms) | one article added, searchable (s) |",
             "| --- | --- | --- | --- | --- |"]
    for z in r["sizes"]:
        for label in ("folder", "postgresql", "postgresql_hnsw"):
            m = z[label]
            rows.append(f"| {z['chunks']:,} chunks | {label.replace('_', ' + ')} | {m['open_s']} | {m['retrieval_ms_p50']:.0f} / "
                        f"{m['retrieval_ms_p95']:.0f} | {m['add_one_searchable_s']}{'' if m['add_one_found'] else ' (not found!)'} |")
    return "\n".join(rows)
