"""The `rag` command: thin over the library.

    rag index PATH...        add or update articles in the index
    rag ask "질문"            answer from the index, with citations (--json for machines)
    rag chat                 serve the chat page
    rag models pull|list     fetch or list the models of a profile

Errors are printed as one actionable line and exit with code 1; --debug shows tracebacks.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from . import __version__
from .config import Config, load_config
from .errors import RagError
from .memo import MEMO_STYLES

log = logging.getLogger("rag")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        config = load_config(args.config, args.profile, getattr(args, "index_dir", None))
        return args.run(args, config) or 0
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


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="model profile from models.yaml (default: default)")
    common.add_argument("--config", type=Path, help="path to models.yaml (default: the project's)")
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    with_index = argparse.ArgumentParser(add_help=False)
    with_index.add_argument("--index-dir", type=Path, help="index folder (default: index/ in the project)")

    parser = argparse.ArgumentParser(prog="rag", description="Local Q&A over Korean news articles.", parents=[common])
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common, with_index], help="add or update articles in the index")
    p.add_argument("paths", nargs="+", type=Path, help=".txt, .md or .jsonl files, or folders of them")
    p.add_argument("--rebuild", action="store_true", help="start a new index from these paths only")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", parents=[common, with_index], help="answer a question with citations")
    p.add_argument("question", nargs="?", help="the question (or give --batch)")
    p.add_argument("--json", action="store_true", help="print the answer, citations, hits, timings and memo as one line of JSON")
    p.add_argument("--since", metavar="DATE", help="only articles published on or after this day (2024-10-01)")
    p.add_argument("--until", metavar="DATE", help="only articles published on or before this day")
    p.add_argument("--source", action="append", default=[], metavar="OUTLET", help="only this outlet's articles (repeatable), e.g. 조선일보")
    p.add_argument("--today", metavar="DATE", help='the day "어제", "지난주" count from (default: the newest article\'s day)')
    p.add_argument("--history", action="append", default=[], metavar="Q",
                   help="an earlier question of the conversation (repeatable, oldest first); it is answered again so the question can follow up on it")
    p.add_argument("--history-file", type=Path, metavar="FILE", help="earlier turns: what earlier `rag ask --json` calls printed")
    p.add_argument("--batch", metavar="FILE", help="answer each line of FILE (- for stdin): a question, or a JSON request "
                   '{"question", "history", "since", "until", "source"}; prints one JSON object per line')
    p.add_argument("--memo-style", choices=MEMO_STYLES, default="numbered", help="references as [1] (default) or footnotes [^1]")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("chat", parents=[common, with_index], help="serve the chat page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="login for the page and the API (or set RAG_AUTH); required off 127.0.0.1")
    p.add_argument("--no-auth", action="store_true", help="serve a non-local address without a login (not advised)")
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("eval", parents=[common], help="measure answer quality on a question set (real-question JSONL or SQuAD/KorQuAD)")
    p.add_argument("file", type=Path, help="eval/real-questions.jsonl, or SQuAD-format JSON (e.g. ../shared/eval/korquad/KorQuAD_v1.0_dev.json)")
    p.add_argument("--split", choices=["tune", "test", "all"], default="all", help="real questions: which half to ask")
    p.add_argument("--corpus", choices=["bundled", "news", "news-dated", "news-11"], help="real questions: only those over this corpus")
    p.add_argument("--strip-dates", action="store_true", help="real questions: ask dated ones without their time words")
    p.add_argument("--articles", type=int, metavar="N",
                   help="real questions: index only N news articles (the gold ones and a fixed sample of the rest)")
    p.add_argument("--retrieval", action="store_true", help="real questions: only rank the gold articles (no language model)")
    p.add_argument("--sample", type=int, default=300, help="questions sampled for retrieval and answers")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--answers", type=int, nargs="?", const=100, default=0, metavar="N",
                   help="also answer the first N sampled questions (default 100) and score them")
    p.add_argument("--unanswerable", type=int, default=0, metavar="K",
                   help="ask K questions with their gold paragraph removed; report the refusal rate")
    p.add_argument("--paragraphs", type=int, help="index only the first N paragraphs (quick runs)")
    p.add_argument("--eval-dir", type=Path, help="where the evaluation index is kept (default: in the model cache)")
    p.add_argument("--json", type=Path, help="write every number, setting and answer to this file")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="measure latency, throughput and memory (prints a table, writes JSON)")
    p.add_argument("--news", type=Path, nargs="*", default=sorted((Path(__file__).resolve().parent.parent.parent / "shared/news").glob("*.jsonl")),
                   help="news .jsonl files for the archive section (default: ../shared/news; none: skip it)")
    p.add_argument("--repeats", type=int, default=1, help="times the seed questions are asked")
    p.add_argument("--json", type=Path, default=Path("artifacts/bench.json"), help="where to write the numbers")
    p.set_defaults(run=cmd_bench)

    models = sub.add_parser("models", help="fetch or list models").add_subparsers(dest="action", required=True)
    p = models.add_parser("pull", parents=[common], help="fetch and verify the profile's models")
    p.set_defaults(run=cmd_models_pull)
    p = models.add_parser("list", parents=[common], help="list models and whether they are present")
    p.set_defaults(run=cmd_models_list)
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args, config: Config) -> int:
    from .background import catch_up, eta
    from .index import identity, index_paths
    from .load import load_embedder

    embedder = load_embedder(config, _say)
    started = time.monotonic()
    shown = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal shown
        if stage == "embed" and (time.monotonic() - shown > 5 or done == total):
            shown = time.monotonic()
            _say(f"  {eta(done, total, time.monotonic() - started)} ({done}/{total} chunks)")

    result = index_paths(args.paths, config.index_dir, embedder, config.settings, args.rebuild, progress, embed=False, load=False)
    for problem in result.problems:
        _say(f"경고 / warning: {problem}")
    print(
        f"키워드 검색 가능 / searchable by keyword: {result.added} added, {result.removed} removed, {result.unchanged} unchanged, "
        f"{result.duplicates} duplicates skipped; {result.chunks} chunks in {config.index_dir}",
        flush=True,
    )
    started = time.monotonic()
    try:
        done = catch_up(config.index_dir, embedder, identity(embedder, config.settings), progress)
    except KeyboardInterrupt:
        _say("중단됨 / stopped: what was embedded is kept; run `rag index` again to go on.")
        return 130
    if done.busy:
        print(f"의미 검색 색인은 다른 프로세스가 하는 중 / another process is embedding ({done.pending} chunks left).")
    else:
        print(f"의미 검색 색인 완료 / embedded: {done.embedded} chunks")
    return 0


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

    return plain([Note.of(answer)], style, questions=False).rstrip()


def cmd_eval(args, config: Config) -> int:
    if args.file.suffix == ".jsonl":
        from .harness.questions import format_real, format_real_retrieval, run_real, run_real_retrieval

        if args.retrieval:
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
    from .harness.bench import format_bench, run_bench

    report = run_bench(config, [p for p in args.news if p.is_file()], args.repeats, progress=_say)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(format_bench(report))
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


if __name__ == "__main__":
    sys.exit(main())
