"""`rag chat`: the page and the JSON API in one process, behind one login rule."""
from __future__ import annotations

import asyncio
import logging

import gradio as gr
import uvicorn
from fastapi import FastAPI

from rag import Config, RagError
from ui import api
from ui.app import MAX_UPLOAD_MB, App, build
from ui.render import CSS, SCRIPT

log = logging.getLogger("rag.ui")
LOCAL = ("127.0.0.1", "localhost", "::1")


def login(host: str, auth: str | None, no_auth: bool) -> tuple[str, str] | None:
    """The login for the page and the API: required whenever they are reachable from other machines.

    >>> login("127.0.0.1", None, False) is None
    True
    >>> login("0.0.0.0", "kim:s3cret", False)
    ('kim', 's3cret')
    """
    if auth:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            raise RagError("--auth / RAG_AUTH must look like USER:PASSWORD.")
        return user, password
    if host not in LOCAL and not no_auth:
        raise RagError(
            f"Serving on {host} opens the page to the network: give a login with --auth USER:PASSWORD "
            "(or RAG_AUTH), or pass --no-auth to serve it open on purpose."
        )
    return None


def create(app: App, credentials: tuple[str, str] | None) -> FastAPI:
    """The web application: the API's routes first, the page at the root."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.add_exception_handler(api.Refused, api.refused_response)
    server.include_router(api.health(app))
    server.include_router(api.router(app, credentials))
    demo = build(app)
    demo.queue(default_concurrency_limit=1)
    return gr.mount_gradio_app(
        server, demo, path="/", auth=credentials,
        max_file_size=f"{MAX_UPLOAD_MB}mb",  # refused while uploading, before it reaches the disk
        css=CSS, head=SCRIPT, footer_links=[],
    )


class _QuietStop(logging.Filter):
    """A stream cut short by Ctrl+C is not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not cancelled and "graceful shutdown exceeded" not in record.getMessage()


def serve(config: Config, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None, no_auth: bool = False) -> None:
    credentials = login(host, auth, no_auth)
    server = create(App(config).start(), credentials)
    print(f"뉴스 Q&A: http://{host}:{port}  ·  API: http://{host}:{port}/api/ask, /v1/chat/completions  (Ctrl+C로 종료)", flush=True)
    # a page keeps a connection open (its timer, a stream): on Ctrl+C or SIGTERM wait for
    # none of them longer than a few seconds
    logging.getLogger("uvicorn.error").addFilter(_QuietStop())
    uvicorn.run(server, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
