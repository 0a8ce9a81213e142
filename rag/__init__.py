"""Local question answering over Korean news articles, with checkable citations."""
from .config import Config, load_config
from .errors import RagError
from .pipeline import Pipeline
from .types import Answer, Article, Chunk, Citation, Hit

__version__ = "0.1.0"
__all__ = ["Answer", "Article", "Chunk", "Citation", "Config", "Hit", "Pipeline", "RagError", "load_config"]
