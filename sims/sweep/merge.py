"""Merging a finished sweep: every chunk checked, then one NPZ (or NetCDF for a ``.nc`` name).

``merge`` re-derives axes, shape and chunk count from the manifest's embedded config (whose hash
must match) and checks every chunk (checksum, index, config hash, arrays, length) before it
gathers anything. Each task array becomes one array of shape ``cfg.shape + per-point shape``;
the axes are stored as ``axis_NAME``. The file carries its provenance (:func:`provenance`): the
fixed parameters (given and defaulted), the method and tolerances, the config, the ssldyn version
and the command; :meth:`MergedSweep.load` re-loads it.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from dynamics.results import reading
from symbolic.files import check_memory

from ..io import need_xarray, write_netcdf, write_npz
from .config import estimated_bytes, parse_config
from .manifest import (MANIFEST, MAX_MANIFEST_BYTES, check_manifest, manifest_cap, read_chunk, read_journal,
                       read_json)
from .tasks import TASKS


def merge(out_dir: str | os.PathLike, out_file: str | os.PathLike, command: str = "python API") -> Path:
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
    command : str, optional
        The command recorded in the file (the CLI passes its command line).

    Returns
    -------
    pathlib.Path
        ``out_file``. It holds each task array with shape ``cfg.shape + per-point shape``, the
        axes as ``axis_NAME``, ``model``, ``task``, ``config_hash`` and the :func:`provenance`
        (NetCDF: the axes as coordinates, the rest as attributes).

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
        need_xarray("--out", out_file)
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
    meta = {"model": cfg.model, "task": cfg.task, "config_hash": cfg.hash, **provenance(cfg, command)}
    if out_file.suffix == ".nc":
        import xarray as xr

        dims = [n for n, _ in cfg.axes + cfg.initial]
        coords = {**{n: v for n, v in cfg.axes + cfg.initial}, **extra}
        data = {k: (dims + list(trailing.get(k, [f"{k}_{j}" for j in range(v.ndim - len(dims))])), v)
                for k, v in arrays.items()}
        ds = xr.Dataset(data, coords=coords, attrs=meta)
        write_netcdf(out_file, ds, name="--out")
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


def provenance(cfg, command: str = "python API") -> dict:
    """What a merged sweep records besides its arrays, as ``{key: scalar}``: ``form``, ``method``
    (the [integrate] method of an integrate sweep, else the task: computed in closed form),
    ``param_NAME`` for each fixed parameter (the config's [params] and the defaults of those no
    axis varies), ``defaulted`` (comma-separated), ``integrate_KEY`` for each scalar of
    [integrate], ``axes`` (the axis names, comma-separated), ``config`` (the TOML text),
    ``version`` (``symbolic.__version__``) and ``command``."""
    from symbolic import __version__

    params, defaulted = fixed_params(cfg)
    integ = {f"integrate_{k}": v for k, v in cfg.integrate.items() if isinstance(v, (int, float, str))}
    method = cfg.integrate.get("method", "tsit5") if cfg.task == "integrate" else cfg.task
    return {"form": cfg.form, "method": method, **{f"param_{k}": v for k, v in params.items()},
            "defaulted": ",".join(defaulted), **integ, "axes": ",".join(n for n, _ in cfg.axes + cfg.initial),
            "config": cfg.text, "version": __version__, "command": command}


def fixed_params(cfg) -> tuple:
    """``({name: value}, defaulted names)``: the parameters every point of ``cfg`` shares, the
    config's [params] and the dataclass defaults of those no axis varies (numbers and strings)."""
    if cfg.task == "train":
        from dynamics.recipe_outcome import LinearRecipe

        cls: type = LinearRecipe
    else:
        cls = cfg.params_class
    varied = {n for n, _ in cfg.axes} | ({"rho"} if any(n == "rho_factor" for n, _ in cfg.axes) else set())
    defaults = {f.name: f.default for f in dataclasses.fields(cls)
                if f.name not in cfg.params and f.name not in varied and isinstance(f.default, (int, float, str))}
    return {**cfg.params, **defaults}, tuple(defaults)


#: the keys of a merged sweep that are not its arrays
_META = ("model", "task", "config_hash", "form", "method", "defaulted", "axes", "config", "version", "command")


@dataclasses.dataclass(frozen=True)
class MergedSweep:
    """A merged sweep re-loaded (:meth:`load`): its provenance, axes and arrays.

    Parameters
    ----------
    model, task, form, method : str
        What was swept (``method``: the integrate task's tableau, else the task's name).
    params : dict
        The fixed parameters, given and defaulted; ``defaulted`` names the latter.
    defaulted : tuple of str
        The fixed parameters that took their defaults.
    axes : dict
        ``{name: values}`` of the grid axes, then the initial axes, in the arrays' order.
    arrays : dict
        The task's arrays (and coordinates such as ``t_eval``, ``state``).
    integrate : dict
        The [integrate] scalars (``t_end``, ``method``, ``rtol`` ...).
    version, command, config, config_hash : str
        The ssldyn version and the command that merged it, the config's TOML text and its hash.
    """

    model: str
    task: str
    form: str
    method: str
    params: dict
    defaulted: tuple
    axes: dict
    arrays: dict
    integrate: dict
    version: str
    command: str
    config: str
    config_hash: str

    @classmethod
    def load(cls, path) -> "MergedSweep":
        """Re-load a merged sweep (NPZ with ``allow_pickle=False``, or NetCDF with xarray)."""
        if str(path).lower().endswith(".nc"):
            import xarray as xr

            with reading(path, "a NetCDF file"), xr.load_dataset(path) as ds:
                arrays = {k: ds[k].values for k in ds.variables}
                meta = dict(ds.attrs)
            names = [n for n in str(meta.get("axes", "")).split(",") if n]
            axes = {n: arrays.pop(n) for n in names}
        else:
            with reading(path, "an NPZ file"), np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = {k: arrays.pop(k) for k in list(arrays) if k in _META or k.startswith(("param_", "integrate_"))}
            axes = {k[5:]: arrays.pop(k) for k in list(arrays) if k.startswith("axis_")}
        if "config_hash" not in meta:
            raise ParameterError(f"{str(path)!r} is not a merged sweep: it has no config_hash")
        text = lambda k: str(np.asarray(meta[k])) if k in meta else ""         # noqa: E731
        item = lambda v: np.asarray(v).item()                                  # noqa: E731
        defaulted = text("defaulted")
        return cls(model=text("model"), task=text("task"), form=text("form") or "reduced", method=text("method"),
                   params={k[6:]: item(v) for k, v in meta.items() if k.startswith("param_")},
                   defaulted=tuple(defaulted.split(",")) if defaulted else (), axes=axes, arrays=arrays,
                   integrate={k[10:]: item(v) for k, v in meta.items() if k.startswith("integrate_")},
                   version=text("version"), command=text("command"), config=text("config"),
                   config_hash=text("config_hash"))


def is_merged(path) -> bool:
    """Whether the .npz or .nc file at ``path`` is a merged sweep (it records a config hash)."""
    if str(path).lower().endswith(".nc"):
        import xarray as xr

        with reading(path, "a NetCDF file"), xr.open_dataset(path) as ds:
            return "config_hash" in ds.attrs
    with reading(path, "an NPZ file"), np.load(path, allow_pickle=False) as z:
        return "config_hash" in z.files
