"""Where the index lives: the folder (default) or a PostgreSQL URL, checked before anything connects.

    store: postgresql://rag@db.example:5432/news?hnsw=true&ef_search=100
    store: {url: postgresql://rag@db.example/news, password_file: /run/secrets/rag-db}

The password never travels in the URL: a URL holding one is refused (it would end up in shell
history, `ps`, logs and error lines). It comes from PGPASSWORD or PGPASSFILE (read by libpq
itself), or from `password_file`, a file whose first line is the password, read only when
connecting. Nothing here holds a password, so no repr, log line or error can show one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import ConfigError

SCHEMES = ("postgresql", "postgres")
OPTIONS = ("hnsw", "ef_search", "schema")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")


@dataclass(frozen=True)
class StoreSpec:
    """A PostgreSQL store: where it is, the tables' schema, and how dense search runs."""

    host: str
    port: int
    database: str
    user: str
    schema: str = "public"  # the PostgreSQL schema holding the rag_* tables
    hnsw: bool = False  # an HNSW index for dense search (approximate); exact otherwise
    ef_search: int = 100  # HNSW candidates per search: higher is slower and closer to exact
    password_file: Path | None = None

    @property
    def url(self) -> str:
        """The URL as it may be shown: never a password.

        >>> parse("postgresql://rag@127.0.0.1:5433/news?hnsw=1", "--store").url
        'postgresql://rag@127.0.0.1:5433/news?hnsw=true'
        """
        options = "&".join(o for o in (self.hnsw and "hnsw=true", self.hnsw and self.ef_search != 100 and f"ef_search={self.ef_search}",
                                       self.schema != "public" and f"schema={self.schema}") if o)
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}" + (f"?{options}" if options else "")


def parse(value, where: str) -> StoreSpec | None:
    """The store `value` names (None: the folder); `where` says where it was given, for errors.

    >>> parse("folder", "--store") is None, parse("postgres://me@db/news", "x").port
    (True, 5432)
    """
    if value is None or value == "" or value == "folder":
        return None
    if isinstance(value, dict):
        unknown = set(value) - {"url", "password_file"}
        if unknown or "url" not in value:
            raise ConfigError(f"{where} must be a URL or a mapping with 'url' (and 'password_file'), not {sorted(value)}.")
        spec = parse(value["url"], f"{where}.url")
        file = value.get("password_file")
        return replace(spec, password_file=Path(file).expanduser()) if file else spec
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be 'folder' or a URL postgresql://USER@HOST:PORT/DATABASE.")
    return _from_url(value, where)


def _from_url(value: str, where: str) -> StoreSpec:
    shown = redact(value)
    usage = "expected postgresql://USER@HOST:PORT/DATABASE (password in PGPASSWORD or a password file)"
    try:
        parts = urlsplit(value)
        port = parts.port or 5432
    except ValueError:
        raise ConfigError(f"{where}: '{shown}' is not a PostgreSQL URL; {usage}.") from None
    if parts.scheme not in SCHEMES or not parts.hostname or not parts.username or len(parts.path) < 2:
        raise ConfigError(f"{where}: '{shown}' is not a PostgreSQL URL; {usage}.")
    if parts.password is not None:
        raise ConfigError(f"{where}: the URL '{shown}' holds a password. Give it in PGPASSWORD or a password file "
                          "(`password_file:` in models.yaml), never in the URL.")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if unknown := sorted(set(options) - set(OPTIONS)):
        raise ConfigError(f"{where}: unknown option {unknown[0]!r} in '{shown}'; known: {', '.join(OPTIONS)}.")
    schema = options.get("schema", "public")
    if not _NAME.match(schema):
        raise ConfigError(f"{where}: schema must be a lowercase name of letters, digits and _, not {schema!r}.")
    ef_search = options.get("ef_search", "100")
    if not ef_search.isdigit() or not 1 <= int(ef_search) <= 1000:
        raise ConfigError(f"{where}: ef_search must be a whole number from 1 to 1000, not {ef_search!r}.")
    hnsw = options.get("hnsw", "false").lower()
    if hnsw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{where}: hnsw must be true or false, not {hnsw!r}.")
    return StoreSpec(parts.hostname, port, unquote(parts.path[1:]), unquote(parts.username), schema,
                     hnsw in ("true", "1", "yes"), int(ef_search))


def redact(text: str) -> str:
    """`text` with any password of a URL in it replaced by ***.

    >>> redact("could not use postgresql://rag:s3cret@db:5432/news")
    'could not use postgresql://rag:***@db:5432/news'
    """
    return re.sub(r"(//[^/\s:@]*):[^@\s]*@", r"\1:***@", text)
