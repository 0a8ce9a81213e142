"""Timelines measured: `rag eval eval/stories.jsonl`.

Each story question of the set has a hand-checked gold list of events (the day, and every
article of the two months that mainly reports it; eval/README.md). The timeline is asked for
(no model) and scored:
- event recall: gold events with a line citing one of their articles;
- precision: lines citing an article of a gold event (strict), or of the story (its headline
  names the story's words: analyses and columns on the story are not gold events but are on it);
- duplicates: lines beyond the first citing one gold event's articles (two lines for one event);
- dates right: of the lines matched to a gold event, those whose day is the event's day.
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from ..ingest import read_paths
from ..korean import key
from ..load import load_embedder
from ..pipeline import Pipeline
from .corpora import NEWS, where
from .eval_index import build_index
from .evaluate import Corpus

MONTHS = [NEWS / "chosun-2024-10.jsonl", NEWS / "chosun-2024-11.jsonl"]
SAMPLE = 1200  # articles indexed: every story's gold and off-story articles, and a fixed sample of the rest


@dataclass(frozen=True)
class Story:
    id: str
    question: str
    split: str
    events: tuple[dict, ...]  # {"day", "what", "articles": [url]}
    off_story: tuple[str, ...]
    words: tuple[str, ...]  # what the story's articles name

    @classmethod
    def of(cls, d: dict) -> Story:
        return cls(d["id"], d["question"], d.get("split", "test"), tuple(d["events"]), tuple(d.get("off_story", ())),
                   tuple(d.get("search_words", ())))


def load_stories(path: Path) -> list[Story]:
    try:
        return [Story.of(json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a story set ({e!r}); see eval/README.md.") from None


def is_story_set(path: Path) -> bool:
    first = next((line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()), "{}")
    return "events" in json.loads(first)


def score_story(story: Story, timeline) -> dict:
    """The counts of one timeline (a tuple of types.Event) against the story's gold."""
    gold = [{where_url for where_url in e["articles"]} for e in story.events]
    days = [date.fromisoformat(e["day"]) for e in story.events]
    matched, strict, on_story, right_day = [], 0, 0, 0
    for line in timeline:
        cited = where(line.citation.article)
        hit = next((i for i, urls in enumerate(gold) if cited in urls), None)
        matched.append(hit)
        if hit is not None:
            strict += 1
            right_day += line.day == days[hit]
        named = any(key(w) in key(line.citation.article.title) for w in story.words)
        on_story += hit is not None or named
    found = {i for i in matched if i is not None}
    return {"events": len(gold), "lines": len(timeline), "recalled": len(found), "strict": strict, "on_story": on_story,
            "duplicates": sum(1 for i in matched if i is not None) - len(found), "matched": strict, "right_day": right_day}


def run_stories(config: Config, path: Path, split: str = "all", articles_limit: int | None = None,
                progress: Callable[[str], None] = print) -> dict:
    stories = load_stories(path)
    chosen = [s for s in stories if split in ("all", s.split)]
    if missing := [p for p in MONTHS if not p.exists()]:
        raise ConfigError(f"The story set needs the news at {missing[0]}.")
    articles = read_paths(MONTHS).articles
    keep = {u for s in stories for e in s.events for u in e["articles"]} | {u for s in stories for u in s.off_story}
    limit = articles_limit or SAMPLE
    kept = [a for a in articles if where(a) in keep]
    others = [a for a in articles if where(a) not in keep]
    kept += random.Random(7).sample(others, max(0, min(len(others), limit - len(kept))))
    embedder = load_embedder(config, progress)
    folder = config.cache_dir / "eval" / f"stories-{limit}"
    progress(f"평가 색인 / evaluation index: {len(kept)} articles of both months → {folder}")
    index = build_index(Corpus(kept, [], "stories"), folder, embedder, config, lambda stage, done, total: progress(f"  {stage} {done}/{total}"))
    pipeline = Pipeline(config, index, embedder, None)
    records = []
    for s in chosen:
        t = time.perf_counter()
        answer = pipeline.ask(s.question, timeline=True, today=date(2024, 11, 30)).answer
        records.append({"id": s.id, "question": s.question, "split": s.split, **score_story(s, answer.timeline),
                        "seconds": round(time.perf_counter() - t, 2), "timeline_s": answer.timings.get("timeline"), "text": answer.text})
        r = records[-1]
        progress(f"  {s.id} {s.question}: {r['recalled']}/{r['events']} events, {r['lines']} lines, {r['strict']} gold, "
                 f"{r['duplicates']} duplicates")
    return {"file": str(path), "split": split, "articles": len(kept), "scores": totals(records), "records": records}


def totals(records: list[dict]) -> dict:
    def share(a: str, b: str) -> float | None:
        n = sum(r[b] for r in records)
        return round(sum(r[a] for r in records) / n, 4) if n else None

    seconds = sorted(r["timeline_s"] or 0.0 for r in records)
    return {"stories": len(records), "event_recall": share("recalled", "events"), "precision_strict": share("strict", "lines"),
            "precision_on_story": share("on_story", "lines"), "duplicates": share("duplicates", "lines"),
            "dates_right": share("right_day", "matched"),
            "timeline_s_p50": seconds[len(seconds) // 2] if seconds else None,
            "timeline_s_p95": seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))] if seconds else None}


def format_stories(report: dict) -> str:
    s = report["scores"]
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    return "\n".join([
        f"{report['file']} · split {report['split']} · {s['stories']} stories · {report['articles']} articles indexed", "",
        f"event recall {pct(s['event_recall'])} · precision {pct(s['precision_strict'])} (gold events), "
        f"{pct(s['precision_on_story'])} (on the story) · duplicates {pct(s['duplicates'])} · dates right {pct(s['dates_right'])}",
        f"timeline after retrieval p50 / p95: {s['timeline_s_p50']} / {s['timeline_s_p95']} s"])
