"""`rag bench --desk`: people asking at once, through one web server on one llama.cpp server, and
through two web servers on two, all on one PostgreSQL: what `rag desk` starts, measured in one
run so the ratio holds on a noisy machine.

Each person asks the seed questions in turn over /api/ask/stream, as a page does. The answer is
composed by the code once the model has chosen, so the first text a person sees is the whole
answer: "answer shown" is both the first-token and the whole-answer time, and includes the wait
in line. On one machine the two model servers share its cores (each gets half), so the second
pair shows what a second *machine* would add only when it is one.
"""
from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from ..config import Config
from ..desk import Desk
from ..stores.postgres.local import free_port
from .bench import SEED_QUESTIONS, machine, summary


def ask(url: str, question: str) -> dict:
    """One question over /api/ask/stream: seconds to the answer, and whether it waited in line."""
    request = urllib.request.Request(url.rstrip("/") + "/api/ask/stream", data=json.dumps({"question": question}).encode(),
                                     method="POST")
    started, event, waited, answered = time.perf_counter(), None, False, None
    with urllib.request.urlopen(request, timeout=900) as response:
        for line in response:
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
                waited |= event == "queue"
                if event == "answer":
                    answered = time.perf_counter() - started
    return {"answer_s": answered, "waited": waited, "error": answered is None}


def people_at_once(urls: list[str], people: int, rounds: int) -> dict:
    """`people` threads, person i on urls[i % len], each asking `rounds` seed questions in turn."""
    results: list[dict] = []
    lock = threading.Lock()

    def person(i: int) -> None:
        for r in range(rounds):
            got = ask(urls[i % len(urls)], SEED_QUESTIONS[(i + r * people) % len(SEED_QUESTIONS)])
            with lock:
                results.append(got)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(people)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    answered = [r["answer_s"] for r in results if not r["error"]]
    return {"people": people, "questions": len(results), "errors": sum(r["error"] for r in results), "wall_s": round(wall, 1),
            "answers_per_minute": round(60 * len(answered) / wall, 2), "answer_shown_s": summary(answered),
            "waited": sum(r["waited"] for r in results)}


def run_desk_bench(config: Config, people: int = 4, rounds: int = 3, say=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="rag-desk-bench-") as tmp:
        Path(tmp).chmod(0o755)  # as root, PostgreSQL runs as another user, who must reach its folder
        return _bench(Desk(config, Path(tmp) / "desk", "127.0.0.1", say), people, rounds, say)


def _bench(desk: Desk, people: int, rounds: int, say) -> dict:
    report: dict = {"machine": machine(), "people": people, "rounds": rounds}
    try:
        desk.use_store(desk.start_postgres(free_port()))
        desk.fill()
        for servers in (1, 2):
            say(f"desk bench: {people} people through {servers} web server(s) on {servers} llama.cpp server(s)")
            llms = desk.start_llms(servers, free_port())
            desk.start_webs(servers, free_port(), llms, None)
            people_at_once([p.url for p in desk.parts if p.name.startswith("web")], 1, 1)  # each server's first answer reads the prompt
            report[f"{servers}_servers"] = people_at_once([p.url for p in desk.parts if p.name.startswith("web")], people, rounds)
            desk.stop_servers()
    finally:
        desk.stop()
    return report


def format_desk_bench(r: dict) -> str:
    rows = [f"{r['people']} people asking at once, {r['rounds']} questions each ({r['machine'].get('cpu', '')})",
            "| set-up | answers per minute | answer shown p50 / p95 (s) | waited in line | errors |", "| --- | --- | --- | --- | --- |"]
    for servers in (1, 2):
        m = r.get(f"{servers}_servers")
        if m:
            rows.append(f"| {servers} web + {servers} llama.cpp server(s) | {m['answers_per_minute']} | "
                        f"{m['answer_shown_s']['p50']} / {m['answer_shown_s']['p95']} | {m['waited']} of {m['questions']} | {m['errors']} |")
    return "\n".join(rows)
