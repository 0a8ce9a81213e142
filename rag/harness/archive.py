"""The archive benchmark: how fast real news becomes searchable, and the index at 10k/50k/200k chunks.

Stage speeds are measured on the real news of `../shared/news/` (two months, 4,099 articles).
The bigger archives are those months repeated with changed article ids (each copy a segment
of its own, added the way `rag index` adds, so merges happen as they would), and vectors
for them are drawn at random: opening, search time and memory depend on how many vectors
there are, not on their values, and embedding 200,000 chunks here would take a day. Each
size is then probed in a fresh process (`python -m rag.harness.archive DIR`), so its peak
memory is its own: open, search, add one article, answer one question.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..stores.identity import Identity, identity
from ..stores.folder import vectors
from ..stores.folder.writer import write_prepared
from ..stores.plan import New, prepare
from ..config import Config, load_config
from ..ingest import read_paths
from ..korean import tokens

SIZES = (10_000, 50_000, 200_000)
# stories asked for a timeline (the story set's kinds of questions, eval/stories.jsonl)
STORIES = ["명태균 의혹 수사 정리해줘", "동덕여대 사태 정리해줘", "한강 노벨상 이후 소식", "의대생 휴학 흐름 알려줘", "이재명 1심 선고 정리",
           "문다혜 음주운전 사건 어떻게 됐어?", "북한 오물풍선 소식 정리", "뉴진스 하니 국감 이후 소식", "서울시교육감 보궐선거 정리",
           "지하철 파업 어떻게 됐어?"]
QUESTIONS = ["엔비디아 주가는 왜 떨어졌어?", "트럼프 당선 이후 환율은 어떻게 됐어?", "한강 작가 노벨상 수상 소식",
             "삼성전자 3분기 실적은?", "북한군 러시아 파병", "기준금리 인하 결정", "배추 가격이 왜 올랐어?",
             "미국 대선 결과", "의대 증원 갈등은 어떻게 됐어?", "코스피 지수 전망"]


def stage_speeds(news: list[Path], config: Config, embedder, workdir: Path) -> tuple[dict, New]:
    """Chunks/s of each stage on the real news, and time until all of it is searchable by keyword."""
    laps: dict[str, float] = {}
    t = time.perf_counter()
    articles = read_paths(news).articles
    laps["read"] = time.perf_counter() - t
    new = prepare(articles, 0, config.settings, laps=laps)
    t = time.perf_counter()
    write_prepared(workdir / "real", identity(embedder, config.settings), [new])
    laps["write"] = time.perf_counter() - t
    n = len(new.chunks)
    sample = new.chunks[:64]
    title = {a.id: a.title for a in articles}
    embedder.embed_documents([c.text for c in sample[:8]], titles=[title[c.article_id] for c in sample[:8]])
    t = time.perf_counter()
    embedder.embed_documents([c.text for c in sample], titles=[title[c.article_id] for c in sample])
    dense = len(sample) / (time.perf_counter() - t)
    return {
        "articles": len(articles),
        "chunks": n,
        "chunks_per_s": {stage: round(n / s, 1) for stage, s in laps.items()},
        "searchable_s": round(sum(laps.values()), 1),
        "searchable_chunks_per_s": round(n / sum(laps.values()), 1),
        "dense_chunks_per_s": round(dense, 2),
        "dense_hours_for_these": round(n / dense / 3600, 2),
    }, new


def copies(base: New, size: int):
    """`base` repeated with changed article and chunk ids until `size` chunks, one copy at a time."""
    n, copy = 0, 0
    while n < size:
        take = base.chunks[: size - n]
        owners = {c.article_id for c in take}
        renamed = {a.id: f"{a.id}-{copy}" for a in base.articles if a.id in owners}
        chunks = [replace(c, id=n + i, article_id=renamed[c.article_id]) for i, c in enumerate(take)]
        articles = [replace(a, id=renamed[a.id]) for a in base.articles if a.id in owners]
        yield New(articles, chunks, base.tokens[: len(take)], base.keys[: len(take)])
        n, copy = n + len(take), copy + 1


def random_vectors(keys: list[str], folder: Path, ident: Identity) -> None:
    rng = np.random.default_rng(0)
    for i in range(0, len(keys), 5000):
        v = rng.normal(size=(len(keys[i : i + 5000]), ident.dim)).astype(np.float32)
        vectors.write_shard(vectors.folder(folder, ident.model_id, ident.dim), keys[i : i + 5000], v / np.linalg.norm(v, axis=1, keepdims=True))


def timelines(config: Config, embedder, folder: Path, questions: list[str]) -> dict:
    """Seconds a story's timeline takes on the two months of news (keyword search: the index has no
    vectors), retrieval apart from the events and their lines made after it."""
    from ..pipeline import Pipeline
    from ..stores.folder import open_folder

    pipeline = Pipeline(config, open_folder(folder, identity(embedder, config.settings)), embedder, None)
    laps = [pipeline.story(q).timings for q in questions]
    after = sorted(t.get("timeline", 0.0) for t in laps)
    search = sorted(t.get("retrieve", 0.0) for t in laps)
    return {"questions": len(laps), "timeline_s_p50": after[len(after) // 2], "timeline_s_p95": after[min(len(after) - 1, int(0.95 * len(after)))],
            "retrieve_s_p50": search[len(search) // 2]}


def run_archive(config: Config, embedder, news: list[Path], workdir: Path, progress=print) -> dict:
    progress(f"archive: stage speeds on {', '.join(p.name for p in news)}")
    report, base = stage_speeds(news, config, embedder, workdir)
    progress("archive: story timelines over the two months")
    report["timelines"] = timelines(config, embedder, workdir / "real", STORIES)
    ident = identity(embedder, config.settings)
    report["sizes"] = []
    for size in SIZES:
        progress(f"archive: {size:,} chunks")
        folder = workdir / f"archive-{size}"
        t = time.perf_counter()
        write_prepared(folder, ident, copies(base, size))
        random_vectors(sorted(set(base.keys)), folder, ident)
        built = time.perf_counter() - t
        probe = subprocess.run([sys.executable, "-m", "rag.harness.archive", str(folder), config.profile, base.articles[0].title],
                               capture_output=True, text=True, check=True)
        report["sizes"].append({"chunks": size, "build_s": round(built, 1), **json.loads(probe.stdout.strip().splitlines()[-1])})
    return report


def probe(folder: Path, profile: str, question: str) -> dict:
    """Open the index in `folder`, time searches, add one article, answer `question` (an
    article's headline: its words are there, so the model is asked and memory peaks as in use)."""
    from ..stores.folder import index_paths
    from ..load import load_embedder, load_generator
    from ..pipeline import Pipeline
    from ..stores.folder.reader import open_index, refresh
    from ..retrieve import retrieve

    config = replace(load_config(profile=profile, index_dir=folder), default_index=False)
    embedder = load_embedder(config)
    t = time.perf_counter()
    index = open_index(folder, identity(embedder, config.settings))
    opened = time.perf_counter() - t
    retrieve(index, embedder, QUESTIONS[0], tokens(QUESTIONS[0]), config.settings)  # the first query warms the model
    times = []
    for q in QUESTIONS * 2:
        t = time.perf_counter()
        retrieve(index, embedder, q, tokens(q), config.settings)
        times.append((time.perf_counter() - t) * 1000)
    one = folder.parent / f"one-{folder.name}.md"
    one.write_text("# 제로폰 출시\n\n테스트전자는 오늘 신형 스마트폰 제로폰 X1을 99만원에 출시한다고 밝혔다.\n", encoding="utf-8")
    t = time.perf_counter()
    index_paths([one], folder, embedder, config.settings, embed=False, load=False)
    written = time.perf_counter() - t
    index = refresh(index)
    added = time.perf_counter() - t
    found = any("제로폰" in index.chunk(cid).text for cid in index.sparse.search(tokens("테스트전자 제로폰 출시"), 3))
    pipeline = Pipeline(config, index, embedder, load_generator(config))
    answer = pipeline.ask(question).answer
    return {
        "open_s": round(opened, 2),
        "retrieval_ms_p50": round(float(np.percentile(times, 50)), 1),
        "retrieval_ms_p95": round(float(np.percentile(times, 95)), 1),
        "add_one_written_s": round(written, 2),
        "add_one_searchable_s": round(added, 2),
        "add_one_found": found,
        "answer_s": round(answer.timings["total"], 1),
        "answer_chosen_by": answer.chosen_by,
        "segments": len(index.generation.segments),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), sys.argv[2], sys.argv[3])))
