"""Merging a finished sweep: every chunk checked, then one NPZ (or NetCDF for a ``.nc`` name).

``merge`` re-derives axes, shape and chunk count from the manifest's embedded config (whose hash
must match) and checks every chunk (checksum, index, config hash, arrays, length) before it
gathers anything. Each task array becomes one array of shape ``cfg.shape + per-point shape``;
the axes are stored as ``axis_NAME``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from symbolic.files import check_memory, write_file

from ..io import write_npz
from .config import estimated_bytes, parse_config
from .manifest import (MANIFEST, MAX_MANIFEST_BYTES, check_manifest, manifest_cap, read_chunk, read_journal,
                       read_json)
from .tasks import TASKS


def merge(out_dir: str | os.PathLike, out_file: str | os.PathLike) -> Path:
    r"""Gather every chunk into one NPZ (or NetCDF for a .nc name, with xarray). The manifest must match
    its embedded config; axes, shape and chunk count come from that config, and every chunk must match
    its checksum, index and length.

    Exported as ``sims.merge_sweep``.

    Parameters
    ----------
    out_dir : str or os.PathLike
        A finished sweep folder (:func:`~sims.sweep.runner.run_sweep`).
    out_file : str or os.PathLike
        The file to write: NPZ, or NetCDF for a name ending in ``.nc``.

    Returns
    -------
    pathlib.Path
        ``out_file``. It holds each task array with shape ``cfg.shape + per-point shape``, the
        axes as ``axis_NAME``, and ``model``, ``task`` and ``config_hash`` (NetCDF: the axes as
        coordinates, the rest as attributes).

    Raises
    ------
    ParameterError
        If ``out_file`` does not end in .npz or .nc or lies inside ``out_dir``, if the gathered
        arrays would not fit in memory, if ``out_dir`` has no readable manifest or it does not
        match its embedded config, if a chunk is missing or does not match its checksum, index or
        length (re-run the sweep to recompute it), or for a ``.nc`` name without xarray installed.

    Examples
    --------
    The fates under the L2 flow at :math:`\sigma^2=0.5`: at :math:`\eta=0.1` the equilibria are 0,
    :math:`(1\pm\sqrt{0.4})/3\approx0.1225, 0.5442`, so initial values above 0.1225 converge (code 2)
    and the others collapse (1); above :math:`\eta_c=1/6` every one collapses:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sims import merge_sweep, run_sweep
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config = Path(tmp) / "fates.toml"
    ...     _ = config.write_text('model = "l2-byol"\ntask = "fate"\n[params]\nsigma2 = 0.5\n[grid]\n'
    ...                           'eta = [0.1, 0.2]\n[initial]\np0 = [-0.5, 0.05, 0.3, 1.0]\n')
    ...     _ = run_sweep(config, Path(tmp) / "sweep", workers=1, progress=False)
    ...     path = merge_sweep(Path(tmp) / "sweep", Path(tmp) / "fates.npz")
    ...     with np.load(path) as merged:
    ...         fate, p0, task = merged["fate"], merged["axis_p0"], str(merged["task"])
    >>> path.name, task, fate.shape, p0.tolist()
    ('fates.npz', 'fate', (2, 4), [-0.5, 0.05, 0.3, 1.0])
    >>> fate.tolist()
    [[1, 1, 2, 2], [1, 1, 1, 1]]
    """
    out, out_file = Path(out_dir), Path(out_file)
    check_merge_paths(out, out_file)
    if out_file.suffix == ".nc":
        _need_xarray(out_file)
    mpath = out / MANIFEST
    if not os.path.lexists(mpath):
        raise ParameterError(f"{out} has no manifest.json: not a sweep folder")
    manifest = read_json(mpath, MAX_MANIFEST_BYTES, str(mpath))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), str):
        raise ParameterError(f"{mpath}: no embedded config (an edited manifest, or one of an older ssldyn)")
    cfg = parse_config(manifest["config"], f"{mpath} (embedded config)")
    if mpath.stat().st_size > manifest_cap(cfg):
        raise ParameterError(f"{mpath} is larger than a manifest of its sweep can be (the manifest was edited)")
    check_manifest(manifest, cfg, mpath)
    manifest = {**manifest, "chunks": {**manifest["chunks"], **read_journal(out, cfg)}}
    # the chunks, the gathered arrays and a copy while they are reshaped
    check_memory(f"merging the {cfg.n_points} points of {out}", 3.0 * estimated_bytes(cfg))
    parts = []
    for i in range(cfg.n_chunks):
        arrays, problem = read_chunk(out, cfg, manifest, i)
        if problem:
            raise ParameterError(f"{out}: chunk {i} {problem}; re-run the sweep to recompute it")
        parts.append(arrays)
    shape = cfg.shape
    arrays = {}
    for key in TASKS[cfg.task].outputs(cfg):
        first = parts[0][key]
        for i, p in enumerate(parts):
            if p[key].shape[1:] != first.shape[1:] or p[key].dtype != first.dtype:
                raise ParameterError(f"{out}: chunk {i}: {key} is {p[key].dtype}{list(p[key].shape[1:])} per point, "
                                     f"chunk 0's {first.dtype}{list(first.shape[1:])}; re-run the sweep into a new --out")
        a = np.concatenate([p[key] for p in parts])
        arrays[key] = a.reshape(shape + a.shape[1:])
    trailing, extra = TASKS[cfg.task].dims(cfg)
    meta = {"model": cfg.model, "task": cfg.task, "config_hash": cfg.hash}
    if out_file.suffix == ".nc":
        import xarray as xr

        dims = [n for n, _ in cfg.axes + cfg.initial]
        coords = {**{n: v for n, v in cfg.axes + cfg.initial}, **extra}
        data = {k: (dims + list(trailing.get(k, [f"{k}_{j}" for j in range(v.ndim - len(dims))])), v)
                for k, v in arrays.items()}
        ds = xr.Dataset(data, coords=coords, attrs=meta)
        write_file(out_file, ds.to_netcdf, name="--out", by_path=True)     # atomic, as every writer
        return out_file
    for name, vals in cfg.axes + cfg.initial:
        arrays[f"axis_{name}"] = vals
    write_npz(out_file, {**arrays, **extra, **{k: np.asarray(v) for k, v in meta.items()}}, name="--out")
    return out_file


#: what ``merge`` writes, by the suffix of its file name
SUFFIXES = {".npz": "NPZ", ".nc": "NetCDF"}


def check_merge_paths(out_dir, out_file) -> None:
    """Refuse (one line naming --out) a merge output whose suffix is not .npz or .nc, or that lies
    inside the sweep folder being merged (it would replace the manifest, a chunk, or be taken for one)."""
    out_file = Path(out_file)
    if out_file.suffix not in SUFFIXES:
        raise ParameterError(f"--out must end in .npz (NPZ) or .nc (NetCDF); got {str(out_file)!r}")
    folder = os.path.realpath(out_dir)
    target = os.path.realpath(out_file)
    if target == folder or target.startswith(folder.rstrip(os.sep) + os.sep):
        raise ParameterError(f"--out must not be inside the folder being merged ({os.fspath(out_dir)!r}); "
                             f"got {str(out_file)!r}")


def _need_xarray(out_file: Path):
    """Raise one line naming the package and the extra unless xarray can be imported."""
    try:
        import xarray  # noqa: F401
    except ImportError:
        raise ParameterError(f"--out {out_file}: NetCDF output needs the package xarray, which is not installed; "
                             "pip install ssldyn[sweep] (or give --out a .npz name)") from None
