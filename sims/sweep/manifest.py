"""What a sweep folder holds, and its checks: ``manifest.json``, ``chunks.log`` and ``chunk_NNNNN.npz``.

Each finished chunk goes to ``chunk_NNNNN.npz`` with its own index and the config hash inside,
then its SHA-256 onto the end of ``chunks.log`` (one line ``INDEX SHA256``, appended and fsynced:
the cost of recording a chunk does not grow with the chunks done). ``manifest.json`` holds the
config text and its hash, the fields that follow from it (shape, chunk count: not the axes'
values, which the config gives) and the chunk table; it is written when a run starts and when it
ends, folding the journal in. Every field of a manifest follows from its embedded config, so an
edited manifest is caught; a chunk file's checksum binds it to its place (index and hash inside),
so swapped or foreign chunks are caught too. Every file is read through
:func:`symbolic.files.read_capped` with a size cap that follows from the config (a FIFO, a link to
``/dev/zero`` or a sparse file is refused, never read). Both :mod:`.runner` (resume) and
:mod:`.merge` read a folder through this module.
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError
from symbolic.files import read_capped

from ..io import sha256
from .config import SweepConfig, manifest_bytes, parse_config
from .tasks import TASKS

MANIFEST = "manifest.json"
JOURNAL = "chunks.log"
#: manifest format: 2 holds no axis values (format 1, without the key, held them all)
FORMAT = 2
#: the most bytes of a manifest read before its config is known (merge)
MAX_MANIFEST_BYTES = 256 << 20
_LINE = re.compile(r"(0|[1-9]\d{0,9}) ([0-9a-f]{64})")


def chunk_path(out: Path, i: int) -> Path:
    return out / f"chunk_{i:05d}.npz"


def versions() -> dict:
    """:func:`sims.io.versions` without torch (a sweep never uses it)."""
    from ..io import versions as _versions

    return _versions(torch=False)


def manifest_fields(cfg: SweepConfig) -> dict:
    """What a manifest says about its sweep; all of it follows from the config (the axes by name
    only: their values follow from the embedded config)."""
    return {"format": FORMAT, "config_hash": cfg.hash, "model": cfg.model, "task": cfg.task,
            "shape": list(cfg.shape), "axes": [n for n, _ in cfg.axes + cfg.initial], "n_points": cfg.n_points,
            "chunk_size": cfg.chunk_size, "n_chunks": cfg.n_chunks, **cfg.extra_fields(values=False)}


def _legacy_fields(cfg: SweepConfig) -> dict:
    """The fields of a format-1 manifest (written before the format key): every axis value."""
    return {"config_hash": cfg.hash, "model": cfg.model, "task": cfg.task, "shape": list(cfg.shape),
            "axes": [[n, v.tolist()] for n, v in cfg.axes],
            "p0": None if cfg.p0 is None else cfg.p0.tolist(), "n_points": cfg.n_points,
            "chunk_size": cfg.chunk_size, "n_chunks": cfg.n_chunks, **cfg.extra_fields()}


def manifest_cap(cfg: SweepConfig) -> int:
    """The most bytes a ``manifest.json`` of ``cfg`` can have: :func:`~.disk.manifest_bytes`, plus
    the axis values a format-1 manifest (an older ssldyn) listed, at most 32 bytes each."""
    return manifest_bytes(cfg) + 32 * sum(len(v) for _, v in cfg.axes + cfg.initial)


def read_json(path: Path, cap: int, name: str):
    """The JSON value of ``path`` (a regular file of at most ``cap`` bytes), else a one-line
    ParameterError naming ``name`` (unreadable, too large, not JSON, nested too deeply)."""
    data = read_capped(path, cap, name)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        what = "nested too deeply" if isinstance(e, RecursionError) else ' '.join(str(e).split())[:80]
        raise ParameterError(f"{name} is not readable JSON ({what}); got {str(path)!r}") from None


def check_model_unchanged(m: dict, cfg: SweepConfig, where) -> None:
    """Raise if manifest ``m`` is a sweep of ``cfg``'s user model as it was defined before (its
    fingerprint differs: e.g. an edited --models file). Built-in models carry no fingerprint."""
    fp = cfg.extra_fields(values=False).get("model_fingerprint")
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
    embedded = cfg if text == cfg.text else parse_config(text, f"{mpath} (embedded config)")
    if embedded.hash != m.get("config_hash"):
        raise ParameterError(f"{mpath}: config_hash does not match the embedded config (the manifest was edited)")
    fields = manifest_fields(cfg) if "format" in m else _legacy_fields(cfg)
    for key, want in fields.items():
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


def read_journal(out: Path, cfg: SweepConfig) -> dict:
    """``{str(index): sha256}`` of the lines of ``out/chunks.log`` (later lines win); a line that is
    not ``INDEX SHA256`` of a chunk of this sweep (the torn end of a killed run) is skipped."""
    path = out / JOURNAL
    if not os.path.lexists(path):
        return {}
    data = read_capped(path, manifest_bytes(cfg), f"{path}")
    table = {}
    for line in data.decode("ascii", "replace").splitlines():
        m = _LINE.fullmatch(line)
        if m and int(m.group(1)) < cfg.n_chunks:
            table[m.group(1)] = m.group(2)
    return table


def recorded_chunks(out) -> dict:
    """``{str(index): sha256}`` of every chunk a sweep folder records as finished (its manifest's
    table and the journal of a run in progress or killed); ``{}`` when there is none. For monitors
    and tests: nothing is checked against a config."""
    out = Path(out)
    try:
        table = dict(read_json(out / MANIFEST, MAX_MANIFEST_BYTES, MANIFEST).get("chunks") or {})
    except (ParameterError, AttributeError, TypeError, ValueError):
        table = {}
    try:
        lines = read_capped(out / JOURNAL, MAX_MANIFEST_BYTES, JOURNAL).decode("ascii", "replace").splitlines()
    except ParameterError:
        lines = []
    table.update((m[1], m[2]) for m in map(_LINE.fullmatch, lines) if m)
    return table


def append_journal(fd: int, i: int, digest: str) -> None:
    """Record chunk ``i``'s checksum: one line appended to the open journal ``fd`` and fsynced."""
    os.write(fd, f"{i} {digest}\n".encode())
    os.fsync(fd)


def chunk_cap(cfg: SweepConfig, i: int) -> int:
    """The most bytes chunk file ``i`` can have (twice the task's estimate, plus the zip overhead)."""
    return 2 * cfg.chunk_len(i) * TASKS[cfg.task].bytes_per_point(cfg) + (1 << 20)


def chunk_config_hash(out: Path, cfg: SweepConfig, i: int) -> str | None:
    """The config hash stored in chunk file ``i`` (read within its size cap), None if unreadable."""
    try:
        data = read_capped(chunk_path(out, i), chunk_cap(cfg, i), f"chunk {i}")
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return str(z["_config_hash"]) if "_config_hash" in z.files else None
    except Exception:  # noqa: BLE001 - any damage: not a chunk we can vouch for
        return None


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
    """``(arrays, None)`` for a complete chunk ``i`` whose bytes match its checksum, else ``(None, problem)``.
    The file is read only if it is a regular file within the chunk's size cap."""
    rec = manifest["chunks"].get(str(i))
    if rec is None or not os.path.lexists(chunk_path(out, i)):
        return None, "is missing or corrupted"
    try:
        data = read_capped(chunk_path(out, i), chunk_cap(cfg, i), f"chunk {i}")
    except ParameterError as e:
        return None, f"cannot be used ({str(e).removeprefix(f'chunk {i} ')})"
    if sha256(data) != rec:
        return None, "is missing or corrupted"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - matching checksum but not an NPZ: an edited manifest
        return None, "is not an NPZ file"
    problem = check_chunk(cfg, i, arrays)
    return (None, problem) if problem else (arrays, None)
