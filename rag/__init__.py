"""Local question answering over Korean news articles, with checkable citations."""
from . import dates
from .config import Config, load_config
from .conversation import Request, ask
from .errors import RagError
from .export import location, reporter, when
from .load import load_pipeline, with_profile
from .memo import MEMO_STYLES, Note, answer_json, edit, markdown, parts, plain, to_markdown, without_references
from .pipeline import Pipeline, Reply
from .question import check_day, check_question, check_scope
from .types import Answer, Article, Chunk, Citation, Evidence, Hit, Scope, Turn

__version__ = "0.1.0"
__all__ = [
    "MEMO_STYLES", "Answer", "Article", "Chunk", "Citation", "Config", "Evidence", "Hit", "Note", "Pipeline", "RagError", "Reply", "Request", "Scope",
    "Turn", "answer_json", "ask", "check_day", "check_question", "check_scope", "dates", "edit", "load_config", "load_pipeline", "location", "markdown", "parts", "plain", "reporter",
    "to_markdown", "when", "with_profile", "without_references",
]
