"""Embedding cache: append-only shards of chunk vectors, keyed by what was embedded.

    vectors/<model>/vec-<stamp>.npz    keys (the chunk key, see `chunk_key`) and float32 vectors

A shard is written whole to a temporary name and renamed, so a kill leaves only complete
shards (a damaged one fails its zip CRC when read and is skipped with a warning). The embedder
writes a shard at least every `FLUSH_SECONDS`, which bounds what a kill -9 can lose. Keys are
a hash of the embedded text, so an article read again, moved to another file, or removed and
added back is never embedded twice; the folder is per model, so switching models keeps both.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
FLUSH_SECONDS = 30.0


def folder(index_dir: Path, model_id: str, dim: int) -> Path:
    return index_dir / "vectors" / hashlib.sha256(f"{model_id}|{dim}".encode()).hexdigest()[:12]


def shards(where: Path) -> list[Path]:
    return sorted(where.glob("vec-*.npz"))


def read_shard(path: Path, keys_only: bool = False) -> tuple[list[str], np.ndarray]:
    """A shard's keys and vectors; none of either if it is damaged (its chunks are then embedded
    again) or was joined into a bigger shard meanwhile (`compact`)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["keys"].tolist(), (np.zeros((0, 0), np.float32) if keys_only else z["vectors"])
    except FileNotFoundError:
        return [], np.zeros((0, 0), np.float32)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        if not keys_only:  # said once, when its vectors were wanted
            log.warning("skipping damaged vector shard %s (%s); its chunks will be embedded again", path, e)
        return [], np.zeros((0, 0), np.float32)


def write_shard(where: Path, keys: list[str], vectors: np.ndarray) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    final = where / f"vec-{time.time_ns()}.npz"
    tmp = final.with_suffix(".tmp")
    with tmp.open("wb") as f:
        np.savez(f, keys=np.asarray(keys, dtype=str), vectors=np.asarray(vectors, np.float32))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return final


def known_keys(where: Path) -> set[str]:
    """Keys of every stored vector (reads the keys member only)."""
    return {key for path in shards(where) for key in read_shard(path, keys_only=True)[0]}


def compact(where: Path, small: int = 20_000, most: int = 16) -> None:
    """Join the shards holding fewer than `small` vectors into one once there are more than
    `most` of them: the embedder writes a shard every half minute, and an archive's thousands
    of shards would slow every open. The joined shard is written before the small ones are
    deleted, so a crash between leaves a key twice, which readers take either way."""
    joined = [path for path in shards(where) if 0 < len(read_shard(path, keys_only=True)[0]) < small]  # a damaged one stays
    if len(joined) <= most:
        return
    parts = [read_shard(path) for path in joined]
    write_shard(where, [k for keys, _ in parts for k in keys], np.vstack([v for keys, v in parts if keys]))
    for path in joined:
        path.unlink(missing_ok=True)

