"""One base error; every message says what went wrong and what to do.

The CLI turns a RagError into exit code 1 without a traceback; the UI into a Korean gr.Error.
"""


class RagError(Exception):
    """Base of every error the product reports to a person."""


class ConfigError(RagError):
    """models.yaml or a setting is missing or wrong."""


class ModelError(RagError):
    """A model could not be fetched, assembled, verified or loaded."""


class IngestError(RagError):
    """An input file could not be read as articles."""


class StoreError(RagError):
    """The index is missing, locked, damaged, or was built with other settings."""


class IndexMissing(StoreError):
    """No index in the given folder."""


class IndexMismatch(StoreError):
    """The index was built by another embedding model, schema or chunking."""
