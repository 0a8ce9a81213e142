"""Local question answering over Korean news articles, with checkable citations."""
from . import dates
from .config import Config, load_config
from .errors import RagError
from .export import location, to_markdown, when
from .load import load_pipeline, with_profile
from .pipeline import Pipeline, Reply
from .question import check_day, check_question, check_scope
from .types import Answer, Article, Chunk, Citation, Hit, Scope, Turn

__version__ = "0.1.0"
__all__ = [
    "Answer", "Article", "Chunk", "Citation", "Config", "Hit", "Pipeline", "RagError", "Reply", "Scope", "Turn",
    "check_day", "check_question", "check_scope", "dates", "load_config", "load_pipeline", "location", "to_markdown",
    "when", "with_profile",
]
