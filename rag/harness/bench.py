"""Benchmarks: latency, throughput and memory, measured in one run on this machine.

Numbers are printed and written as JSON; nothing here asserts a time. Ratios (ours vs a
naive pipeline, ours vs raw llama.cpp) come from the same run, so a noisy machine skews
both sides alike.
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..stores.base import Store
from ..config import Config
from ..generate import LlamaGenerator
from ..korean import tokens
from ..load import load_embedder, load_generator, open_index
from ..pipeline import Pipeline
from ..retrieve import retrieve
from ..stores.address import redact
from .archive import run_archive

SEED_QUESTIONS = [
    "엔비디아 주가는 왜 떨어졌어?",
    "삼성전자의 올해 3분기 영업이익은 얼마야?",
    "딥시크는 어떤 회사야?",
    "샤오미가 공개한 AI 모델 이름은?",
    "호주 정부는 딥시크에 대해 어떤 조치를 했어?",
    "그록 3는 누가 언제 공개해?",
    "세계 AI 과학자 100명 가운데 중국계는 몇 명이야?",
    "중국 과학자들이 중국으로 돌아오는 이유는?",
    "리창 총리는 보험산업에 대해 뭐라고 했어?",
    "엔비디아 시가총액은 얼마나 줄었어?",
]
WARM_UP = "테슬라 주가는 왜 올랐어?"
# the common baseline's prompt: the model writes the answer from whole chunks (what other tools do)
NAIVE_PROMPT = ("당신은 한국어 뉴스 기사만을 근거로 질문에 답하는 도우미입니다. [자료]에 있는 내용만 사용해 2~3문장으로 답하고, "
                "각 문장 끝에 근거가 된 자료 번호를 [1]처럼 붙이세요.")
NAIVE_TOKENS = 256


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile.

    >>> pct([1.0, 2.0, 3.0, 4.0], 50), pct([1.0, 2.0, 3.0, 4.0], 95)
    (2.0, 4.0)
    """
    ordered = sorted(values)
    rank = max(1, int(np.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 3), "p95": round(pct(values, 95), 3), "mean": round(statistics.fmean(values), 3)}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_answers(pipeline: Pipeline, questions: list[str]) -> dict:
    """First token, total time and prompt tokens of our pipeline, per question."""
    first, total, prompt_tokens, by = [], [], [], []
    for q in questions:
        answer = pipeline.ask(q).answer
        first.append(answer.timings["first_token"])
        total.append(answer.timings["total"])
        by.append(answer.chosen_by or "refused")
        stats = pipeline.generator.last_stats
        if answer.chosen_by == "model" and "prompt_tokens" in stats:  # a model loaded here; a server tells nothing
            prompt_tokens.append(stats["prompt_tokens"])
    return {
        "first_token_s": summary(first),
        "total_s": summary(total),
        "prompt_tokens": summary(prompt_tokens) if prompt_tokens else None,
        "chosen_by": {k: by.count(k) for k in sorted(set(by))},
    }


def time_naive(pipeline: Pipeline, questions: list[str], k: int = 5) -> dict:
    """The common baseline: top-k whole chunks stuffed into the prompt, no prefix cache."""
    first, total, prompt_tokens = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        hits = retrieve(pipeline.index, pipeline.embedder, q, tokens(q), pipeline.config.settings, k)
        context = "\n\n".join(f"[{i}] {h.article.title}\n{h.chunk.text}" for i, h in enumerate(hits, 1))
        messages = [{"role": "system", "content": NAIVE_PROMPT},
                    {"role": "user", "content": f"[자료]\n{context}\n[자료 끝]\n\n[질문] {q}"}]
        pipeline.generator.forget()  # no prefix reuse
        t_first = None
        for _ in pipeline.generator.stream(messages, NAIVE_TOKENS):
            t_first = t_first or time.perf_counter()
        end = time.perf_counter()
        first.append((t_first or end) - t0)
        total.append(end - t0)
        prompt_tokens.append(pipeline.generator.last_stats["prompt_tokens"])
    return {"first_token_s": summary(first), "total_s": summary(total), "prompt_tokens": summary(prompt_tokens)}


def raw_llama(generator: LlamaGenerator, prompt_tokens: int, gen_tokens: int = 128) -> dict:
    """llama.cpp's own speed on this machine with nothing around it: a prompt as long as our
    answers' (generation slows as the context grows) and the sampler our answers use (greedy,
    no repeat penalty), tokens generated and never decoded to text."""
    llm = generator.llm
    filler = "국제 유가가 하루 만에 크게 올랐다. 중동 지역의 긴장이 높아졌기 때문이다. " * 400
    toks = llm.tokenize(filler.encode("utf-8"), add_bos=False)[:prompt_tokens]
    llm.reset()
    t0 = time.perf_counter()
    t1, n = None, 0
    for _ in llm.generate(toks, top_k=1, temp=0.0, repeat_penalty=1.0):
        t1, n = t1 or time.perf_counter(), n + 1  # the first token comes after the prompt is evaluated
        if n == gen_tokens:
            break
    t2 = time.perf_counter()
    llm.reset()
    return {
        "prompt_tokens": len(toks),
        "prompt_tps": round(len(toks) / (t1 - t0), 2),
        "generation_tps": round((n - 1) / (t2 - t1), 2),
    }


def time_retrieval(index: Store, embedder, questions: list[str], config: Config) -> dict:
    times = []
    for q in questions:
        t = time.perf_counter()
        retrieve(index, embedder, q, tokens(q), config.settings)
        times.append((time.perf_counter() - t) * 1000)
    return {"chunks": index.chunk_count, "ms": summary(times)}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1), "python": platform.python_version()}


def run_bench(config: Config, news: list[Path], repeats: int = 1,
              progress: Callable[[str], None] = print) -> dict:
    report: dict = {"machine": machine(), "profile": config.profile, "models": {"llm": config.llm.name, "embedder": config.embedder.name}}
    t0 = time.perf_counter()
    embedder = load_embedder(config, progress)
    generator = load_generator(config, progress)
    index = open_index(config, embedder, progress)
    report["load_s"] = round(time.perf_counter() - t0, 2)
    pipeline = Pipeline(config, index, embedder, generator)
    questions = SEED_QUESTIONS * repeats
    progress("our pipeline on the seed questions")
    pipeline.warm()  # as the chat server does before taking questions
    pipeline.ask(WARM_UP).answer  # the query embedding's first call is slower
    report["ours"] = time_answers(pipeline, questions)
    if not isinstance(generator, LlamaGenerator):  # llama.cpp servers answer: the baselines need the model here
        report["llm_servers"] = [redact(u) for u in config.llm_servers]
        return report | {"retrieval_bundled": time_retrieval(index, embedder, questions, config), "peak_rss_mb": round(peak_rss_mb(), 1)}
    progress("raw llama.cpp speed, at our prompt length")
    report["raw_llama"] = raw_llama(generator, int((report["ours"]["prompt_tokens"] or {"p50": 600})["p50"]))
    progress("naive pipeline on the same questions")
    report["naive"] = time_naive(pipeline, questions)
    report["ours_vs_naive_first_token"] = round(report["ours"]["first_token_s"]["p50"] / report["naive"]["first_token_s"]["p50"], 3)
    report["peak_rss_mb_answering"] = round(peak_rss_mb(), 1)
    report["retrieval_bundled"] = time_retrieval(index, embedder, questions, config)
    if news:
        with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
            report["archive"] = run_archive(config, embedder, news, Path(tmp), progress)
    progress("cold start")
    report["cold_start"] = cold_start(config)
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return report


def cold_start(config: Config) -> dict:
    """Process start to chat page served, and process start to a first answer (`rag ask`)."""
    import socket
    import subprocess
    import sys
    import urllib.request

    rag = str(Path(sys.executable).with_name("rag"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    server = subprocess.Popen([rag, "chat", "--port", str(port), "--profile", config.profile],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = None
    try:
        while page is None and time.perf_counter() - t0 < 120:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                page = time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(30)
    t0 = time.perf_counter()
    subprocess.run([rag, "ask", SEED_QUESTIONS[0], "--profile", config.profile], capture_output=True, check=True)
    return {"page_ready_s": round(page, 2) if page else None, "first_answer_s": round(time.perf_counter() - t0, 2)}


def format_bench(r: dict) -> str:
    """The report as a Markdown table (pasted into the README as is)."""
    m = r["machine"]
    if "llm_servers" in r:
        o, ret = r["ours"], r["retrieval_bundled"]
        return "\n".join([
            f"Machine: {m['cpu']}, {m['cores']} cores; answers from {', '.join(r['llm_servers'])} ({r['models']['llm']})", "",
            "| measure | value |", "| --- | --- |",
            f"| first token p50 / p95 (s) | {o['first_token_s']['p50']} / {o['first_token_s']['p95']} |",
            f"| answer total p50 / p95 (s) | {o['total_s']['p50']} / {o['total_s']['p95']} |",
            f"| retrieval p50 / p95, {ret['chunks']} chunks (ms) | {ret['ms']['p50']:.0f} / {ret['ms']['p95']:.0f} |",
            f"| model load (s) / peak RSS (MB) | {r['load_s']} / {r['peak_rss_mb']:.0f} |"])
    rows = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM; profile `{r['profile']}` "
        f"({r['models']['llm']}, {r['models']['embedder']})",
        "",
        "| measure | ours | naive (top-5 chunks, no prefix cache) |",
        "| --- | --- | --- |",
    ]
    o, n = r["ours"], r["naive"]
    rows.append(f"| first token p50 / p95 (s) | {o['first_token_s']['p50']} / {o['first_token_s']['p95']} | "
                f"{n['first_token_s']['p50']} / {n['first_token_s']['p95']} |")
    rows.append(f"| answer total p50 / p95 (s) | {o['total_s']['p50']} / {o['total_s']['p95']} | "
                f"{n['total_s']['p50']} / {n['total_s']['p95']} |")
    rows.append(f"| prompt tokens p50 (ours: when the model chose) | {o['prompt_tokens']['p50'] if o['prompt_tokens'] else 0:.0f} | {n['prompt_tokens']['p50']:.0f} |")
    raw = r["raw_llama"]
    rows += [
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| first token, ours / naive (p50) | {r['ours_vs_naive_first_token']} |",
        f"| answers whose value the model chose / the code chose / refused | {o['chosen_by'].get('model', 0)} / {o['chosen_by'].get('code', 0)} / {o['chosen_by'].get('refused', 0)} |",
        f"| raw llama.cpp generation tokens/s (the naive baseline writes; ours chooses) | {raw['generation_tps']} |",
        f"| raw llama.cpp prompt tokens/s | {raw['prompt_tps']} |",
        f"| retrieval p50 / p95, {r['retrieval_bundled']['chunks']} chunks (ms) | {r['retrieval_bundled']['ms']['p50']:.0f} / {r['retrieval_bundled']['ms']['p95']:.0f} |",
    ]
    if "retrieval_10k" in r:
        rows.append(f"| retrieval p50 / p95, {r['retrieval_10k']['chunks']:,} chunks (ms) | {r['retrieval_10k']['ms']['p50']:.0f} / {r['retrieval_10k']['ms']['p95']:.0f} |")
    if "archive" in r:
        rows += archive_rows(r["archive"])
    if "cold_start" in r:
        c = r["cold_start"]
        rows.append(f"| cold start: page ready / first answer (s) | {c['page_ready_s']} / {c['first_answer_s']} |")
    rows.append(f"| model load (s) | {r['load_s']} |")
    rows.append(f"| peak RSS while answering / whole run (MB) | {r['peak_rss_mb_answering']:.0f} / {r['peak_rss_mb']:.0f} |")
    return "\n".join(rows)


def archive_rows(a: dict) -> list[str]:
    speeds = " · ".join(f"{stage} {v:,.0f}" for stage, v in a["chunks_per_s"].items())
    t = a.get("timelines") or {}
    rows = [
        f"| story timeline after retrieval p50 / p95, {a['articles']:,} articles (s) | {t.get('timeline_s_p50')} / {t.get('timeline_s_p95')} "
        f"(retrieval p50 {t.get('retrieve_s_p50')}) |",
        f"| news read to searchable by keyword ({a['articles']:,} articles, {a['chunks']:,} chunks) | "
        f"{a['searchable_s']} s, {a['searchable_chunks_per_s']} chunks/s ({speeds}) |",
        f"| dense stage (embedding) | {a['dense_chunks_per_s']} chunks/s ({a['dense_hours_for_these']} h for these) |",
        "",
        "| archive | open (s) | retrieval p50 / p95 (ms) | one article added, searchable (s) | peak RSS answering (MB) | segments |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for z in a["sizes"]:
        rows.append(f"| {z['chunks']:,} chunks | {z['open_s']} | {z['retrieval_ms_p50']:.0f} / {z['retrieval_ms_p95']:.0f} | "
                    f"{z['add_one_searchable_s']}{'' if z['add_one_found'] else ' (not found!)'} | {z['peak_rss_mb']:.0f} | {z['segments']} |")
    return rows
