"""The `rag` command: thin over the library.

    rag index PATH...        add or update articles in the index
    rag ask "질문"            answer from the index, with citations (--json for machines)
    rag timeline "딥시크"      a dated, cited timeline of a story
    rag chat                 serve the chat page
    rag desk                 PostgreSQL, llama.cpp servers and web servers on one archive
    rag models pull|list     fetch or list the models of a profile

Errors are printed as one actionable line and exit with code 1; --debug shows tracebacks.
"""
from __future__ import annotations

import contextlib
import faulthandler
import json
import logging
import sys
import time
from pathlib import Path

from .arguments import parser
from .config import Config, load_config
from .errors import RagError

log = logging.getLogger("rag")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with contextlib.suppress(OSError, ValueError):  # a stderr without a file (captured in tests) has no fault handler
        faulthandler.enable()  # a crash inside a native library prints where it happened, never nothing
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        config = load_config(args.config, args.profile, getattr(args, "index_dir", None), store=getattr(args, "store", None),
                             llm_servers=getattr(args, "llm_server", None))
        return COMMANDS[args.run](args, config) or 0
    except RagError as e:
        if args.debug:
            raise
        print(f"오류 / error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("중단됨 / interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an unexpected failure still gets one line, not a traceback
        if args.debug:
            raise
        print(f"예상치 못한 오류 / unexpected error: {type(e).__name__}: {e} (rerun with --debug for details)", file=sys.stderr)
        return 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args, config: Config) -> int:
    from .load import load_embedder, reach_store, update_index

    reach_store(config)
    embedder = load_embedder(config, _say)
    result = update_index(config, embedder, args.paths, args.rebuild, _progress())
    for problem in result.problems:
        _say(f"경고 / warning: {problem}")
    print(
        f"키워드 검색 가능 / searchable by keyword: {result.added} added, {result.removed} removed, {result.unchanged} unchanged, "
        f"{result.duplicates} duplicates skipped; {result.chunks} chunks in {_where(config)}",
        flush=True,
    )
    return _embed(config, embedder)


def cmd_embed(args, config: Config) -> int:
    from .load import load_embedder, reach_store

    reach_store(config)
    return _embed(config, load_embedder(config, _say))


def _embed(config: Config, embedder) -> int:
    from .load import embed_backlog

    try:
        done = embed_backlog(config, embedder, _progress())
    except KeyboardInterrupt:
        _say("중단됨 / stopped: what was embedded is kept; run `rag index` again to go on.")
        return 130
    if done.busy:
        print(f"의미 검색 색인은 다른 프로세스가 하는 중 / another process is embedding ({done.pending} chunks left).")
    else:
        print(f"의미 검색 색인 완료 / embedded: {done.embedded} chunks")
    return 0


def _progress():
    """Embedding progress on stderr, every 5 s, with the time left."""
    from .background import eta

    started, shown = time.monotonic(), 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal shown
        if stage == "embed" and (time.monotonic() - shown > 5 or done == total):
            shown = time.monotonic()
            _say(f"  {eta(done, total, time.monotonic() - started)} ({done}/{total} chunks)")

    return progress


def _where(config: Config) -> str:
    return config.store.url if config.store else str(config.index_dir)


def cmd_ask(args, config: Config) -> int:
    from .conversation import Request, read_history
    from .load import load_pipeline

    if (args.question is None) == (args.batch is None):
        raise RagError('Give a question, or --batch FILE (- for stdin): rag ask "딥시크는 어떤 회사야?"')
    if args.batch is not None:
        return _ask_batch(load_pipeline(config, _say), args)
    history = (read_history(args.history_file) if args.history_file else ()) + tuple(args.history)
    request = Request.of({"question": args.question, "history": history, "since": args.since, "until": args.until,
                          "source": args.source, "today": args.today})  # checked before the models load
    answer = _answer(load_pipeline(config, _say), request, watched=sys.stderr.isatty() and not args.json)
    print(_json(answer, args.memo_style) if args.json else _plain(answer, args.memo_style))
    return 0


def cmd_timeline(args, config: Config) -> int:
    from .conversation import Request
    from .load import load_pipeline

    request = Request.of({"question": args.topic, "since": args.since, "until": args.until, "source": args.source,
                          "today": args.today, "timeline": True})
    answer = _answer(load_pipeline(config, _say, generator=False), request)  # a timeline asks no model
    print(_json(answer, args.memo_style) if args.json else _plain(answer, args.memo_style))
    return 0


def _answer(pipeline, request, watched: bool = False):
    """The request answered; a person watching the terminal sees the answer grow."""
    from .conversation import ask

    reply = ask(pipeline, request)
    for piece in reply:
        if watched:
            print(piece, end="", file=sys.stderr, flush=True)
    if watched:
        print("\n", file=sys.stderr)
    return reply.answer


def _ask_batch(pipeline, args) -> int:
    """One JSON object per line of input, in order; a line that fails gets an "error" object
    and the rest are still answered (exit code 1 at the end)."""
    from .conversation import read_requests

    lines = sys.stdin if args.batch == "-" else _open_text(Path(args.batch))
    failed = 0
    for request in read_requests(lines):
        try:
            if isinstance(request, RagError):
                raise request
            print(_json(_answer(pipeline, request), args.memo_style), flush=True)
        except RagError as e:
            failed += 1
            print(json.dumps({"error": {"message": e.english, "korean": e.korean}}, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def _open_text(path: Path):
    try:
        return path.open(encoding="utf-8")
    except OSError as e:
        raise RagError(f"Cannot read {path}: {e.strerror}.", f"파일을 읽을 수 없습니다: {path}") from None


def _json(answer, style: str) -> str:
    from .memo import answer_json

    return json.dumps(answer_json(answer, style), ensure_ascii=False)


def _plain(answer, style: str) -> str:
    from .memo import Note, plain

    text = plain([Note.of(answer)], style, questions=False).rstrip()
    if answer.refused and answer.evidence:  # the closest sentences, for the person to read
        text += "\n\n가장 가까운 문장:\n" + "\n".join(f"- {e.text} ({e.article.title})" for e in answer.evidence)
    return text


def cmd_eval(args, config: Config) -> int:
    from .harness.stories import format_stories, is_story_set, run_stories

    if args.file.suffix == ".jsonl" and is_story_set(args.file):
        report = run_stories(config, args.file, args.split, args.articles, progress=_say)
        print(format_stories(report))
    elif args.file.suffix == ".jsonl":
        from .harness.questions import format_real, format_real_retrieval, run_real, run_real_retrieval

        if args.evidence:
            from .harness.evidence import format_evidence, run_evidence

            report = run_evidence(config, args.file, args.split, args.corpus, args.articles, refit=args.fit, progress=_say)
            print(format_evidence(report))
        elif args.retrieval:
            report = run_real_retrieval(config, args.file, args.corpus, args.articles, progress=_say)
            print(format_real_retrieval(report))
        else:
            report = run_real(config, args.file, args.split, args.corpus, args.articles, progress=_say, strip_dates=args.strip_dates)
            print(format_real(report))
    else:
        from .harness.evaluate import format_report, run_eval

        report = run_eval(
            config, args.file, args.sample, args.seed, args.answers, args.unanswerable, args.paragraphs,
            args.eval_dir, progress=_say,
        )
        print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nJSON: {args.json}")
    return 0


def cmd_bench(args, config: Config) -> int:
    news = [p for p in args.news if p.is_file()]
    if args.desk:
        from .harness.desk_bench import format_desk_bench, run_desk_bench

        report = run_desk_bench(config, args.people, max(1, args.repeats) * 3, _say)
        formatted = format_desk_bench(report)
    elif config.store is not None:  # the stores side by side, no language model
        from .harness.archive import SIZES
        from .harness.store_bench import format_store_bench, run_store_bench
        from .load import load_embedder, reach_store

        if not news:
            raise RagError("`rag bench --store` compares the stores on news files: give them with --news.")
        reach_store(config)
        report = run_store_bench(config, load_embedder(config, _say), news, config.store, tuple(args.sizes or SIZES), _say)
        formatted = format_store_bench(report)
    else:
        from .harness.bench import format_bench, run_bench

        report = run_bench(config, news, args.repeats, progress=_say)
        formatted = format_bench(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(formatted)
    print(f"\nJSON: {args.json}")
    return 0


def cmd_chat(args, config: Config) -> int:
    # The one import of the page from the library's side: this is the program's entry
    # point, whose job is to start each front end (tests/test_layout.py keeps it the only one).
    from ui.server import serve

    if not args.debug:
        log.setLevel(logging.INFO)  # a server's log says what it did: loads, stops, uploads
    serve(config, args.host, args.port, args.auth or config.auth, args.no_auth)
    return 0


def cmd_desk(args, config: Config) -> int:
    from .desk import run_desk

    data = args.data or config.index_dir / "postgres"
    return run_desk(config, args.web, args.llm, args.port, args.llm_port, args.pg_port, args.host, data.resolve(),
                    not args.no_postgres, args.auth or config.auth)


def cmd_models_pull(args, config: Config) -> int:
    from .models import ensure_model

    for spec in (config.llm, config.embedder):
        path = ensure_model(spec, config.cache_dir, _say)
        print(f"{spec.name}: {path}")
    return 0


def cmd_models_list(args, config: Config) -> int:
    from .models import is_present, model_path

    for spec in (config.llm, config.embedder):
        state = "present" if is_present(spec, config.cache_dir) else "not pulled"
        print(f"{spec.kind:8} {spec.name:36} {spec.source:10} {state:10} {model_path(spec, config.cache_dir)}")
    return 0


COMMANDS = {"index": cmd_index, "embed": cmd_embed, "ask": cmd_ask, "timeline": cmd_timeline, "chat": cmd_chat, "desk": cmd_desk, "eval": cmd_eval, "bench": cmd_bench,
            "models_pull": cmd_models_pull, "models_list": cmd_models_list}

if __name__ == "__main__":
    sys.exit(main())
