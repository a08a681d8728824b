r"""Resumable parameter sweeps: a TOML config -> chunks -> a process pool or Dask -> NPZ per chunk.

A small config (every key in docs/sweep_config.md)::

    model = "cosine-simsiam"          # any model with a reduced form
    task = "regime"                   # regime | equilibria | fate | integrate | rhs
    [params]                          # fixed parameters (dataclass field names)
    sigma2 = 0.5
    [grid]                            # axes: a list, or {lo, hi, n, log}
    rho = {lo = 1e-4, hi = 1e-1, n = 100, log = true}
    n_psi = [0.5, 1.0, 2.0]

Modules: :mod:`.config` (TOML -> checked :class:`SweepConfig`, limits), :mod:`.tasks` (the task
table: what each task computes and writes), :mod:`.manifest` (the files of a sweep folder and
their checks), :mod:`.disk` (their size on disk), :mod:`.runner` (pool, Dask, lock, resume), :mod:`.merge` (NPZ / NetCDF).
"""
from .config import (MAX_CHUNK_SIZE, MAX_CHUNKS, MAX_POINTS, ConfigError, SweepConfig, estimated_bytes,
                     load_config, parse_config)
from .manifest import check_chunk as _check_chunk
from .manifest import manifest_fields as _manifest_fields
from .merge import merge
from .runner import max_workers, run_sweep
from .tasks import DEFAULT_CHUNK, TASK_SECTIONS, TASKS, compute, run_chunk

__all__ = ["ConfigError", "SweepConfig", "load_config", "parse_config", "estimated_bytes", "merge", "run_sweep",
           "max_workers", "compute", "run_chunk", "TASKS", "DEFAULT_CHUNK", "TASK_SECTIONS", "MAX_POINTS",
           "MAX_CHUNKS", "MAX_CHUNK_SIZE", "_manifest_fields", "_check_chunk"]
