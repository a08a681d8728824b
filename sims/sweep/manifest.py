"""What a sweep folder holds, and its checks: ``manifest.json`` and ``chunk_NNNNN.npz``.

Each finished chunk goes to ``chunk_NNNNN.npz`` with its own index and the config hash inside,
then its SHA-256 into ``manifest.json``, which also embeds the config text and its hash. Every
field of a manifest follows from its embedded config, so an edited manifest is caught; a chunk
file's checksum binds it to its place (index and hash inside), so swapped or foreign chunks are
caught too. Both :mod:`.runner` (resume) and :mod:`.merge` read a folder through this module.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from ..io import sha256
from .config import SweepConfig, parse_config
from .tasks import TASKS


def chunk_path(out: Path, i: int) -> Path:
    return out / f"chunk_{i:05d}.npz"


def versions() -> dict:
    """:func:`sims.io.versions` without torch (a sweep never uses it)."""
    from ..io import versions as _versions

    return _versions(torch=False)


def manifest_fields(cfg: SweepConfig) -> dict:
    """What a manifest says about its sweep; all of it follows from the config."""
    return {"config_hash": cfg.hash, "model": cfg.model, "task": cfg.task, "shape": list(cfg.shape),
            "axes": [[n, v.tolist()] for n, v in cfg.axes],
            "p0": None if cfg.p0 is None else cfg.p0.tolist(), "n_points": cfg.n_points,
            "chunk_size": cfg.chunk_size, "n_chunks": cfg.n_chunks, **cfg.extra_fields()}


def check_model_unchanged(m: dict, cfg: SweepConfig, where) -> None:
    """Raise if manifest ``m`` is a sweep of ``cfg``'s user model as it was defined before (its
    fingerprint differs: e.g. an edited --models file). Built-in models carry no fingerprint."""
    fp = cfg.extra_fields().get("model_fingerprint")
    if m.get("model") == cfg.model and m.get("model_fingerprint") != fp:
        raise ParameterError(f"{where} holds a sweep of model {cfg.model} as it was defined before: the model has "
                             "changed since (e.g. an edited --models file); use another --out or delete it")


def check_manifest(m: dict, cfg: SweepConfig, mpath: Path):
    """Raise unless manifest ``m`` is what the sweep of ``cfg`` writes: its embedded config hashes to its
    ``config_hash``, every field follows from that config, and its chunk table lists chunks of this sweep."""
    text = m.get("config")
    check_model_unchanged(m, cfg, mpath)
    if not isinstance(text, str):
        raise ParameterError(f"{mpath}: no embedded config (an edited manifest, or one of an older ssldyn); "
                             "re-run the sweep into a new --out")
    if parse_config(text, f"{mpath} (embedded config)").hash != m.get("config_hash"):
        raise ParameterError(f"{mpath}: config_hash does not match the embedded config (the manifest was edited)")
    for key, want in manifest_fields(cfg).items():
        if m.get(key) != want:
            raise ParameterError(f"{mpath}: {key} differs from what its config gives (the manifest was edited)")
    chunks = m.get("chunks")
    if not isinstance(chunks, dict):
        raise ParameterError(f"{mpath}: chunks must be a table of checksums (the manifest was edited)")
    for k, v in chunks.items():
        if not (re.fullmatch(r"0|[1-9]\d*", k) and int(k) < cfg.n_chunks and isinstance(v, str)):
            raise ParameterError(f"{mpath}: chunks: entry {k!r} is not a chunk of this sweep of {cfg.n_chunks} chunks "
                                 "(the manifest was edited)")


def new_manifest(cfg: SweepConfig) -> dict:
    return {**manifest_fields(cfg), "versions": versions(), "config": cfg.text, "chunks": {}}


def check_chunk(cfg: SweepConfig, i: int, arrays: dict) -> str | None:
    """None if ``arrays`` are chunk ``i`` of ``cfg`` as a sweep writes it, else what is wrong. Each chunk
    stores its index and config hash, so its checksum binds it to its place: chunk files swapped together
    with their checksums, or copied from another sweep, are caught here."""
    idx = arrays.get("_chunk")
    if idx is None or idx.shape != () or idx.dtype.kind not in "iu":
        return "has no chunk index (written by an older ssldyn?)"
    if int(idx) != i:
        return f"holds the points of chunk {int(idx)} (chunk files swapped?)"
    h = arrays.get("_config_hash")
    if h is None or h.shape != () or str(h) != cfg.hash:
        return "was computed for another config"
    keys = sorted(k for k in arrays if not k.startswith("_"))
    want = sorted(TASKS[cfg.task].outputs(cfg))
    if keys != want:
        return f"has arrays {', '.join(keys)}; task {cfg.task} writes {', '.join(want)}"
    n = cfg.chunk_len(i)
    for k in keys:
        if arrays[k].ndim == 0 or arrays[k].shape[0] != n:
            return f"has {k} of shape {arrays[k].shape}; chunk {i} has {n} points"
    return None


def read_chunk(out: Path, cfg: SweepConfig, manifest: dict, i: int):
    """``(arrays, None)`` for a complete chunk ``i`` whose bytes match its checksum, else ``(None, problem)``."""
    rec = manifest["chunks"].get(str(i))
    try:
        data = chunk_path(out, i).read_bytes() if rec is not None else None
    except OSError:
        data = None
    if data is None or sha256(data) != rec:
        return None, "is missing or corrupted"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - matching checksum but not an NPZ: an edited manifest
        return None, "is not an NPZ file"
    problem = check_chunk(cfg, i, arrays)
    return (None, problem) if problem else (arrays, None)
