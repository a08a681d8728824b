"""Disk space of a sweep: what its chunks and manifest take, checked before anything is written."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from .axes import ConfigError, section_line
from .tasks import TASKS

if TYPE_CHECKING:
    from .config import SweepConfig

#: bytes on disk per chunk besides its points (the NPZ's zip entries, index and hash)
BYTES_PER_CHUNK = 1024
#: bytes of manifest.json per chunk (its entry in the chunk table: index and SHA-256)
MANIFEST_BYTES_PER_CHUNK = 80


def estimated_bytes(cfg: SweepConfig) -> int:
    """About how many bytes the chunks of ``cfg`` take on disk."""
    return cfg.n_points * TASKS[cfg.task].bytes_per_point(cfg) + cfg.n_chunks * BYTES_PER_CHUNK


def manifest_bytes(cfg: SweepConfig) -> int:
    """The most bytes the sweep's ``manifest.json`` (the config, JSON-escaped, and the chunk table)
    and its chunk journal can take; also the size cap of reading them."""
    return 65536 + 6 * len(cfg.text.encode()) + 2 * MANIFEST_BYTES_PER_CHUNK * cfg.n_chunks


def check_disk(cfg: SweepConfig, out: Path):
    """Raise (naming [grid] and its line) if the chunks still to write, the manifest and the
    temporary copy of each (written before the rename) would not fit on the disk of ``out``."""
    have = 0
    if out.is_dir():
        have = sum(p.stat().st_size for p in out.glob("chunk_*.npz") if p.is_file())
    need = estimated_bytes(cfg) - have + 2 * manifest_bytes(cfg) + _largest_chunk(cfg)
    probe = out.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need > free:
        line = section_line(cfg.text, "grid")
        where = f"{cfg.source}:{line}" if line else cfg.source
        raise ConfigError(f"{where}: grid: the sweep needs about {_size(need)} on disk and {probe} has {_size(free)} "
                          "free; use fewer points or another --out")


def _largest_chunk(cfg: SweepConfig) -> int:
    return cfg.chunk_len(0) * TASKS[cfg.task].bytes_per_point(cfg) + BYTES_PER_CHUNK


def _size(n: float) -> str:
    if abs(n) < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000
        if abs(n) < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} PB"
