"""The command line's grammar: every command, its options and their help (cli.py runs them)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__
from .memo import MEMO_STYLES


def parser() -> argparse.ArgumentParser:
    """Every command and option; `run` names the handler in cli.py."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="model profile from models.yaml (default: default)")
    common.add_argument("--config", type=Path, help="path to models.yaml (default: the project's)")
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    with_index = argparse.ArgumentParser(add_help=False)
    with_index.add_argument("--index-dir", type=Path, help="index folder (default: index/ in the project)")
    with_index.add_argument("--store", metavar="URL", help="the index in PostgreSQL, postgresql://USER@HOST:PORT/DATABASE "
                            "(or RAG_STORE; password in PGPASSWORD); default: the folder")
    answers = argparse.ArgumentParser(add_help=False)  # for the commands that run the language model
    answers.add_argument("--llm-server", action="append", metavar="URL",
                         help="a llama.cpp server that answers instead of loading the model here, http://HOST:PORT "
                              "(repeatable: each question goes to the least busy; or RAG_LLM_SERVERS=URL,URL)")
    with_store = argparse.ArgumentParser(add_help=False)
    with_store.add_argument("--store", metavar="URL", help="run on a PostgreSQL store (postgresql://USER@HOST:PORT/DATABASE)")

    parser = argparse.ArgumentParser(prog="rag", description="Local Q&A over Korean news articles.", parents=[common])
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common, with_index], help="add or update articles in the index")
    p.add_argument("paths", nargs="+", type=Path, help=".txt, .md or .jsonl files, or folders of them")
    p.add_argument("--rebuild", action="store_true", help="start a new index from these paths only")
    p.set_defaults(run="index")

    p = sub.add_parser("embed", parents=[common, with_index], help="embed the chunks still without a vector (a worker: "
                       "several may run at once on a PostgreSQL store, on several machines)")
    p.set_defaults(run="embed")

    p = sub.add_parser("ask", parents=[common, answers, with_index], help="answer a question with citations")
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
    p.set_defaults(run="ask")

    p = sub.add_parser("timeline", parents=[common, answers, with_index], help="a dated, cited timeline of a story across articles")
    p.add_argument("topic", help='the story, e.g. "딥시크" or "11월 명태균 수사"')
    p.add_argument("--json", action="store_true", help="print the timeline as one line of JSON (each event with its day and cited urls)")
    p.add_argument("--since", metavar="DATE", help="only articles published on or after this day (2024-10-01)")
    p.add_argument("--until", metavar="DATE", help="only articles published on or before this day")
    p.add_argument("--source", action="append", default=[], metavar="OUTLET", help="only this outlet's articles (repeatable)")
    p.add_argument("--today", metavar="DATE", help='the day "지난주" counts from (default: the newest article\'s day)')
    p.add_argument("--memo-style", choices=MEMO_STYLES, default="numbered", help="references as [1] (default) or footnotes [^1]")
    p.set_defaults(run="timeline")

    p = sub.add_parser("chat", parents=[common, answers, with_index], help="serve the chat page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="login for the page and the API (or set RAG_AUTH); required off 127.0.0.1")
    p.add_argument("--no-auth", action="store_true", help="serve a non-local address without a login (not advised)")
    p.set_defaults(run="chat")

    p = sub.add_parser("desk", parents=[common, answers, with_store], help="a desk's set-up: PostgreSQL, llama.cpp servers and "
                       "web servers on one archive (Ctrl-C stops them all)")
    p.add_argument("--web", type=int, default=2, metavar="N", help="web servers (`rag chat`) to start (default 2; 0: none)")
    p.add_argument("--llm", type=int, default=2, metavar="N", help="llama.cpp servers to start (default 2; 0: none, use --llm-server)")
    p.add_argument("--port", type=int, default=7860, help="the first web server's port; the next ones follow (default 7860)")
    p.add_argument("--llm-port", type=int, default=8080, help="the first llama.cpp server's port (default 8080)")
    p.add_argument("--pg-port", type=int, default=5433, help="the PostgreSQL the desk starts listens here (default 5433)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: other machines; a login is then required)")
    p.add_argument("--data", type=Path, help="the PostgreSQL's home (default: index/postgres in the project)")
    p.add_argument("--no-postgres", action="store_true", help="start no PostgreSQL (a machine of model servers, or --store elsewhere)")
    p.add_argument("--auth", metavar="USER:PASSWORD", help="the web servers' login (or set RAG_AUTH)")
    p.set_defaults(run="desk")

    p = sub.add_parser("eval", parents=[common, answers, with_store], help="measure answer quality on a question set (real-question JSONL or SQuAD/KorQuAD)")
    p.add_argument("file", type=Path, help="eval/real-questions.jsonl, or SQuAD-format JSON (e.g. ../shared/eval/korquad/KorQuAD_v1.0_dev.json)")
    p.add_argument("--split", choices=["tune", "test", "all"], default="all", help="real questions: which half to ask")
    p.add_argument("--corpus", choices=["bundled", "news", "news-dated", "news-11"], help="real questions: only those over this corpus")
    p.add_argument("--strip-dates", action="store_true", help="real questions: ask dated ones without their time words")
    p.add_argument("--articles", type=int, metavar="N",
                   help="real questions: index N articles of each news corpus, the gold ones and a fixed sample of the rest "
                        "(default: each corpus's sample, eval/README.md; 0: all)")
    p.add_argument("--retrieval", action="store_true", help="real questions: only rank the gold articles (no language model)")
    p.add_argument("--evidence", action="store_true", help="real questions: evidence@1/@3 of the chosen sentences (no language model)")
    p.add_argument("--fit", action="store_true", help="with --evidence: fit the evidence weights on the tune half and print them")
    p.add_argument("--sample", type=int, default=300, help="questions sampled for retrieval and answers")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--answers", type=int, nargs="?", const=100, default=0, metavar="N",
                   help="also answer the first N sampled questions (default 100) and score them")
    p.add_argument("--unanswerable", type=int, default=0, metavar="K",
                   help="ask K questions with their gold paragraph removed; report the refusal rate")
    p.add_argument("--paragraphs", type=int, help="index only the first N paragraphs (quick runs)")
    p.add_argument("--eval-dir", type=Path, help="where the evaluation index is kept (default: in the model cache)")
    p.add_argument("--json", type=Path, help="write every number, setting and answer to this file")
    p.set_defaults(run="eval")

    p = sub.add_parser("bench", parents=[common, answers, with_store], help="measure latency, throughput and memory (prints a table, writes JSON)")
    p.add_argument("--news", type=Path, nargs="*", default=sorted((Path(__file__).resolve().parent.parent.parent / "shared/news").glob("*.jsonl")),
                   help="news .jsonl files for the archive section (default: ../shared/news; none: skip it)")
    p.add_argument("--repeats", type=int, default=1, help="times the seed questions are asked")
    p.add_argument("--sizes", type=int, nargs="+", metavar="CHUNKS",
                   help="with --store: archive sizes the stores are compared at (default: 10000 50000 200000)")
    p.add_argument("--desk", action="store_true", help="people asking at once through one web server and llama.cpp server, "
                   "then through two, on a PostgreSQL the bench starts (the desk extra)")
    p.add_argument("--people", type=int, default=4, help="with --desk: people asking at once (default 4)")
    p.add_argument("--json", type=Path, default=Path("artifacts/bench.json"), help="where to write the numbers")
    p.set_defaults(run="bench")

    models = sub.add_parser("models", help="fetch or list models").add_subparsers(dest="action", required=True)
    p = models.add_parser("pull", parents=[common], help="fetch and verify the profile's models")
    p.set_defaults(run="models_pull")
    p = models.add_parser("list", parents=[common], help="list models and whether they are present")
    p.set_defaults(run="models_list")
    return parser
