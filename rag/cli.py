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
from pathlib import Path

from . import __version__
from .config import Config, load_config
from .errors import RagError

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
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer, citations, hits and timings as JSON")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("chat", parents=[common, with_index], help="serve the chat page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(run=cmd_chat)

    models = sub.add_parser("models", help="fetch or list models").add_subparsers(dest="action", required=True)
    p = models.add_parser("pull", parents=[common], help="fetch and verify the profile's models")
    p.set_defaults(run=cmd_models_pull)
    p = models.add_parser("list", parents=[common], help="list models and whether they are present")
    p.set_defaults(run=cmd_models_list)
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args, config: Config) -> int:
    from .index import index_paths
    from .pipeline import load_embedder

    embedder = load_embedder(config, _say)

    def progress(stage: str, done: int, total: int) -> None:
        _say(f"  임베딩 / embedding {done}/{total} chunks")

    result = index_paths(args.paths, config.index_dir, embedder, config.settings, args.rebuild, progress)
    for problem in result.problems:
        _say(f"경고 / warning: {problem}")
    print(
        f"색인 완료 / indexed: {result.added} added, {result.removed} removed, {result.unchanged} unchanged, "
        f"{result.duplicates} duplicates skipped; {result.chunks} chunks in {config.index_dir}"
    )
    return 0


def cmd_ask(args, config: Config) -> int:
    from .export import reference
    from .pipeline import Pipeline
    from .types import Answer, answer_dict

    pipeline = Pipeline.load(config, _say)
    draft = sys.stderr.isatty() and not args.json  # show the answer growing, when a person watches
    answer = None
    for event in pipeline.stream(args.question):
        if isinstance(event, Answer):
            answer = event
        elif draft:
            print(event, end="", file=sys.stderr, flush=True)
    if draft:
        print("\n", file=sys.stderr)
    if args.json:
        print(json.dumps(answer_dict(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.citations:
        print("\n출처:")
    for c in answer.citations:
        print(f"[{c.n}] {reference(c.article)}\n    “{c.quote}”")
    return 0


def cmd_chat(args, config: Config) -> int:
    from ui.app import serve

    serve(config, host=args.host, port=args.port)
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
