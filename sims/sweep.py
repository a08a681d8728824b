r"""Resumable parameter sweeps: a TOML config -> chunks -> a process pool or Dask -> NPZ per chunk.

Config (all keys are checked before any work; an error names the key and its line)::

    model = "cosine-simsiam"          # any model with a reduced form
    task = "regime"                   # regime | equilibria | fate | integrate | rhs
    chunk_size = 20000                # points per chunk (optional)
    [params]                          # fixed parameters (dataclass field names)
    sigma2 = 0.5
    [grid]                            # axes: a list, or {lo, hi, n, log}
    rho = {lo = 1e-4, hi = 1e-1, n = 100, log = true}
    n_psi = [0.5, 1.0, 2.0]
    [initial]                         # fate / integrate / rhs: initial conditions (state p)
    p0 = {lo = -2.0, hi = 2.0, n = 16}
    [integrate]                       # integrate: t_end (required), method, rtol, atol, dt
    t_end = 50.0

Tasks: ``regime`` (code of dynamics.regimes.REGIME_CODES and critical decay per point),
``equilibria`` (NaN-padded ascending real roots and their count), ``fate`` (code of FATE_CODES per
point and initial value), ``integrate`` (final state, status, event time of dynamics.integrate),
``rhs`` (the generated right-hand side :math:`\dot p(p_0;\theta)`, a cheap task for checks).

Points are the Cartesian product of the grid axes (first axis slowest), then the initial
conditions. Only the parent process writes: each finished chunk goes to ``chunk_NNNNN.npz``
(temporary file + rename), then its SHA-256 into ``manifest.json`` (same way). Re-running skips
chunks whose file matches the recorded checksum and recomputes every other one (missing,
partial, corrupted), so a sweep killed at any point resumes to a bitwise-identical result.
``merge`` checks every checksum again before it gathers anything.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from .io import atomic_write_bytes, npz_bytes, read_npz, sha256, sha256_file, write_json

TASKS = ("regime", "equilibria", "fate", "integrate", "rhs")
TOP_KEYS = {"model": str, "task": str, "chunk_size": int, "seed": int, "params": dict, "grid": dict,
            "initial": dict, "integrate": dict}
INTEGRATE_KEYS = {"t_end": (int, float), "method": str, "rtol": (int, float), "atol": (int, float),
                  "dt": (int, float)}
#: points per chunk by task: about 0.1 s of work each on one core of this 2-core machine
DEFAULT_CHUNK = {"regime": 250_000, "equilibria": 100_000, "fate": 100_000, "integrate": 20_000, "rhs": 2_000_000}


_TOML_TYPE = {str: "a string", int: "an integer", float: "a number", dict: "a table", list: "an array",
              bool: "a boolean"}


class ConfigError(ParameterError):
    """A malformed sweep configuration (the message names the key and its line)."""


def _line_of(text: str, key: str, section: str | None = None) -> int:
    """Line number (1-based) of ``key = ...`` inside ``[section]`` (top level if None); 0 if unknown."""
    current = None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[([^\]]+)\]$", s)
        if m:
            current = m.group(1).strip()
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", s):
            return i
    return 0


def _err(text, path, key, section, msg):
    line = _line_of(text, key, section)
    where = f"{path}:{line}" if line else str(path)
    name = f"{section}.{key}" if section else key
    return ConfigError(f"{where}: {name}: {msg}")


def _axis(text, path, section, key, spec):
    if isinstance(spec, list):
        if not spec or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise _err(text, path, key, section, "must be a non-empty list of numbers")
        return np.asarray(spec, dtype=np.float64)
    if isinstance(spec, dict):
        unknown = set(spec) - {"lo", "hi", "n", "log"}
        if unknown:
            raise _err(text, path, key, section, f"unknown field {sorted(unknown)[0]!r} (allowed: lo, hi, n, log)")
        try:
            lo, hi, n = float(spec["lo"]), float(spec["hi"]), spec["n"]
        except (KeyError, TypeError, ValueError):
            raise _err(text, path, key, section, "needs numbers lo, hi and an integer n") from None
        if not isinstance(n, int) or n < 1:
            raise _err(text, path, key, section, f"n must be an integer >= 1; got {n!r}")
        if spec.get("log", False):
            if lo <= 0 or hi <= 0:
                raise _err(text, path, key, section, "a log axis needs lo > 0 and hi > 0")
            return np.logspace(math.log10(lo), math.log10(hi), n)
        return np.linspace(lo, hi, n)
    raise _err(text, path, key, section, "must be a list or a table {lo, hi, n, log}")


@dataclass(frozen=True)
class SweepConfig:
    model: str
    task: str
    params: dict
    axes: tuple          # ((name, values), ...)
    p0: np.ndarray | None
    integrate: dict
    chunk_size: int
    seed: int
    text: str

    @property
    def shape(self):
        s = tuple(len(v) for _, v in self.axes)
        return s + ((len(self.p0),) if self.p0 is not None else ())

    @property
    def n_points(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_chunks(self) -> int:
        return (self.n_points + self.chunk_size - 1) // self.chunk_size

    @property
    def hash(self) -> str:
        canon = json.dumps({"model": self.model, "task": self.task, "params": self.params,
                            "axes": [(n, v.tolist()) for n, v in self.axes],
                            "p0": None if self.p0 is None else self.p0.tolist(),
                            "integrate": self.integrate, "chunk_size": self.chunk_size, "seed": self.seed},
                           sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()


def load_config(path) -> SweepConfig:
    """Parse and validate a sweep TOML file; every error names the key and its line."""
    import dataclasses

    from dynamics.params import PARAMS

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    for key, value in raw.items():
        if key not in TOP_KEYS:
            raise _err(text, path, key, None, f"unknown key (allowed: {', '.join(TOP_KEYS)})")
        want = TOP_KEYS[key]
        if not isinstance(value, want) or isinstance(value, bool):
            raise _err(text, path, key, None, f"must be {_TOML_TYPE[want]}; got {_TOML_TYPE.get(type(value), type(value).__name__)}")
    for key in ("model", "task", "grid"):
        if key not in raw:
            raise ConfigError(f"{path}: missing required key {key!r}")
    model, task = raw["model"], raw["task"]
    if model not in ("cosine-simsiam", "cosine-simsiam-delta", "l2-byol"):
        raise _err(text, path, "model", None, f"must be one of cosine-simsiam, cosine-simsiam-delta, l2-byol; got {model!r}")
    if task not in TASKS:
        raise _err(text, path, "task", None, f"must be one of {', '.join(TASKS)}; got {task!r}")
    cls = PARAMS[model]
    fields = {f.name for f in dataclasses.fields(cls)}
    params = {}
    for key, value in raw.get("params", {}).items():
        if key not in fields:
            raise _err(text, path, key, "params", f"not a parameter of {model} (allowed: {', '.join(sorted(fields))})")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _err(text, path, key, "params", f"must be a number; got {type(value).__name__}")
        params[key] = float(value)
    try:
        cls(**params)
    except ParameterError as e:
        bad = next((k for k in params if re.match(rf"^{re.escape(k)}\b", str(e))), None)
        if bad is not None:
            raise _err(text, path, bad, "params", str(e)) from None
        raise ConfigError(f"{path}: [params]: {e}") from None
    axes = []
    if not raw["grid"]:
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() == "[grid]"), 0)
        raise ConfigError(f"{path}:{line}: grid: empty grid: give at least one axis")
    for key, spec in raw["grid"].items():
        if key not in fields:
            raise _err(text, path, key, "grid", f"not a parameter of {model} (allowed: {', '.join(sorted(fields))})")
        if key in params:
            raise _err(text, path, key, "grid", "is also fixed in [params]; give it in one place only")
        vals = _axis(text, path, "grid", key, spec)
        for v in (vals.min(), vals.max()):
            try:
                cls(**{**params, key: float(v)})
            except ParameterError as e:
                raise _err(text, path, key, "grid", str(e)) from None
        axes.append((key, vals))
    p0 = None
    if task in ("fate", "integrate", "rhs"):
        init = raw.get("initial", {})
        if "p0" not in init:
            raise ConfigError(f"{path}: [initial]: task {task} needs p0")
        for key in init:
            if key != "p0":
                raise _err(text, path, key, "initial", "unknown key (allowed: p0)")
        p0 = _axis(text, path, "initial", "p0", init["p0"])
    integ = {}
    if task == "integrate":
        sec = raw.get("integrate", {})
        for key, value in sec.items():
            if key not in INTEGRATE_KEYS:
                raise _err(text, path, key, "integrate", f"unknown key (allowed: {', '.join(INTEGRATE_KEYS)})")
            if not isinstance(value, INTEGRATE_KEYS[key]) or isinstance(value, bool):
                raise _err(text, path, key, "integrate", "has the wrong type")
        if "t_end" not in sec:
            raise ConfigError(f"{path}: [integrate]: task integrate needs t_end")
        if sec["t_end"] <= 0:
            raise _err(text, path, "t_end", "integrate", f"must be > 0; got {sec['t_end']!r}")
        if sec.get("method", "tsit5") not in ("rk4", "tsit5", "dopri5"):
            raise _err(text, path, "method", "integrate", f"must be rk4, tsit5 or dopri5; got {sec['method']!r}")
        integ = dict(sec)
    chunk = raw.get("chunk_size", DEFAULT_CHUNK[task])
    if chunk < 1:
        raise _err(text, path, "chunk_size", None, f"must be >= 1; got {chunk}")
    return SweepConfig(model, task, params, tuple(axes), p0, integ, int(chunk), int(raw.get("seed", 0)), text)


# --- the work of one chunk (runs in a worker) ------------------------------------------------
def _points(cfg: SweepConfig, lo: int, hi: int):
    """Kernel parameter rows and initial conditions of points lo..hi-1."""
    from dynamics.params import PARAMS
    from symbolic.codegen import load_kernels

    k = load_kernels(cfg.model, "reduced")
    base = PARAMS[cfg.model](**cfg.params).as_array(k.PARAMS)
    idx = np.unravel_index(np.arange(lo, hi), cfg.shape)
    inv = {v: kk for kk, v in PARAMS[cfg.model].KERNEL_NAMES.items()}
    theta = np.tile(base, (hi - lo, 1))
    for a, (name, vals) in enumerate(cfg.axes):
        theta[:, list(k.PARAMS).index(inv[name])] = vals[idx[a]]
    p0 = cfg.p0[idx[-1]] if cfg.p0 is not None else None
    return theta, p0


def run_chunk(cfg: SweepConfig, i: int) -> dict:
    """Compute chunk ``i``; returns its arrays (deterministic: the same bits every time)."""
    lo = i * cfg.chunk_size
    return compute(cfg, lo, min(cfg.n_points, lo + cfg.chunk_size))


def compute(cfg: SweepConfig, lo: int, hi: int) -> dict:
    """The task's arrays for points ``lo..hi-1`` (row-major over the grid axes, then p0)."""
    theta, p0 = _points(cfg, lo, hi)
    if cfg.task == "regime":
        from dynamics.equilibria import regimes_batch

        codes, crit = regimes_batch(cfg.model, theta)
        return {"regime": codes, "critical": crit}
    if cfg.task == "equilibria":
        from dynamics.equilibria import equilibria_batch

        roots, count = equilibria_batch(cfg.model, theta)
        return {"equilibria": roots, "count": count}
    if cfg.task == "rhs":
        from dynamics.kernels import bind_kernel
        from symbolic.codegen import load_kernels

        k = load_kernels(cfg.model, "reduced")
        out = np.empty((hi - lo, len(k.STATE)))
        y = np.ascontiguousarray(p0[:, None], dtype=np.float64)
        bind_kernel(_rhs_batch, k.__name__, "rhs", "rhs", parallel=False)(y, np.ascontiguousarray(theta), out)
        return {"rhs": out[:, 0]}
    if cfg.task == "fate":
        from dynamics.regimes import predict_fate_batch

        return {"fate": predict_fate_batch(cfg.model, theta, p0)}
    from dynamics.integrate import integrate

    opts = {k: v for k, v in cfg.integrate.items() if k != "t_end"}
    r = integrate(cfg.model, theta, p0, float(cfg.integrate["t_end"]), **opts)
    return {"final": np.asarray(r.final), "status": r.status, "t_event": r.t_event}


def _rhs_batch(rhs, y, theta, out):
    for i in range(y.shape[0]):
        rhs(y[i], theta[i], out[i])


def _warm(cfg: SweepConfig):
    """Load the generated kernels and compile (or load from numba's disk cache) everything the
    task calls, by computing its first point. Run once in the parent before any worker starts,
    so workers only load cached machine code, then once per worker."""
    from symbolic.codegen import load_kernels

    load_kernels(cfg.model, "reduced")
    compute(cfg, 0, 1)


def _work(args):
    cfg, i = args
    return i, run_chunk(cfg, i)


# --- files --------------------------------------------------------------------------------------
def _versions() -> dict:
    import numba
    import scipy
    import sympy

    try:
        from importlib.metadata import version
        v = version("ssldyn")
    except Exception:  # pragma: no cover
        v = "unknown"
    return {"ssldyn": v, "numpy": np.__version__, "scipy": scipy.__version__, "sympy": sympy.__version__,
            "numba": numba.__version__}


def _chunk_path(out: Path, i: int) -> Path:
    return out / f"chunk_{i:05d}.npz"


def _load_manifest(out: Path, cfg: SweepConfig) -> dict:
    path = out / "manifest.json"
    if path.exists():
        try:
            m = json.loads(path.read_text())
        except ValueError:
            m = None
        if m and m.get("config_hash") == cfg.hash:
            return m
        if m:
            raise ParameterError(f"{out} holds a sweep of a different config (hash {m.get('config_hash', '?')[:12]}); "
                                 "use another --out or delete it")
    return {"config_hash": cfg.hash, "model": cfg.model, "task": cfg.task, "shape": list(cfg.shape),
            "axes": [[n, v.tolist()] for n, v in cfg.axes],
            "p0": None if cfg.p0 is None else cfg.p0.tolist(), "n_points": cfg.n_points,
            "chunk_size": cfg.chunk_size, "n_chunks": cfg.n_chunks, "seed": cfg.seed, "versions": _versions(),
            "config": cfg.text, "chunks": {}}


def _valid(out: Path, manifest: dict, i: int) -> bool:
    rec = manifest["chunks"].get(str(i))
    path = _chunk_path(out, i)
    return rec is not None and sha256_file(path) == rec


def run_sweep(config_path, out_dir, *, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, progress: bool = True) -> dict:
    """Run (or resume) a sweep; returns the manifest."""
    cfg = load_config(config_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(out, cfg)
    for tmp in out.glob("*.tmp"):                           # half-written files of a killed run
        tmp.unlink(missing_ok=True)
    todo = [i for i in range(cfg.n_chunks) if not _valid(out, manifest, i)]
    for i in todo:
        manifest["chunks"].pop(str(i), None)

    def finish(i, arrays):
        data = npz_bytes(arrays)
        atomic_write_bytes(_chunk_path(out, i), data)      # the chunk first, then its checksum
        manifest["chunks"][str(i)] = sha256(data)
        write_json(out / "manifest.json", manifest)

    write_json(out / "manifest.json", manifest)
    if todo:
        _warm(cfg)                                          # compile once, here; workers load the cache
    bar = None
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), unit="chunk", desc="sweep")
    if scheduler or dask_local:
        from dask.distributed import Client, LocalCluster, as_completed

        cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True) if dask_local else None
        with Client(cluster if cluster else scheduler) as client:
            client.run(_warm, cfg)
            futures = [client.submit(_work, (cfg, i), pure=False) for i in todo]
            for fut in as_completed(futures):
                i, arrays = fut.result()
                finish(i, arrays)
                if bar:
                    bar.update(1)
        if cluster:
            cluster.close()
    elif (workers or os.cpu_count() or 1) <= 1 or len(todo) <= 1:
        for i in todo:
            finish(i, run_chunk(cfg, i))
            if bar:
                bar.update(1)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=mp.get_context("spawn"),
                                    initializer=_warm, initargs=(cfg,)) as ex:
            futs = [ex.submit(_work, (cfg, i)) for i in todo]
            for fut in cf.as_completed(futs):
                i, arrays = fut.result()
                finish(i, arrays)
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    return manifest


def merge(out_dir, out_file) -> Path:
    """Gather every chunk (checksums verified) into one NPZ (or NetCDF for a .nc name, with xarray)."""
    out = Path(out_dir)
    mpath = out / "manifest.json"
    if not mpath.exists():
        raise ParameterError(f"{out} has no manifest.json: not a sweep folder")
    manifest = json.loads(mpath.read_text())
    parts = []
    for i in range(manifest["n_chunks"]):
        if not _valid(out, manifest, i):
            raise ParameterError(f"{out}: chunk {i} is missing or corrupted; re-run the sweep to recompute it")
        parts.append(read_npz(_chunk_path(out, i)))
    shape = tuple(manifest["shape"])
    arrays = {}
    for key in parts[0]:
        a = np.concatenate([p[key] for p in parts])
        arrays[key] = a.reshape(shape + a.shape[1:])
    for name, vals in manifest["axes"]:
        arrays[f"axis_{name}"] = np.asarray(vals)
    if manifest["p0"] is not None:
        arrays["axis_p0"] = np.asarray(manifest["p0"])
    meta = {"model": manifest["model"], "task": manifest["task"], "config_hash": manifest["config_hash"]}
    out_file = Path(out_file)
    if out_file.suffix == ".nc":
        import xarray as xr

        dims = [n for n, _ in manifest["axes"]] + (["p0"] if manifest["p0"] is not None else [])
        coords = {n: np.asarray(v) for n, v in manifest["axes"]}
        if manifest["p0"] is not None:
            coords["p0"] = np.asarray(manifest["p0"])
        data = {k: (dims + [f"{k}_{j}" for j in range(v.ndim - len(dims))], v) for k, v in arrays.items()
                if not k.startswith("axis_")}
        xr.Dataset(data, coords=coords, attrs=meta).to_netcdf(out_file)
        return out_file
    atomic_write_bytes(out_file, npz_bytes({**arrays, **{k: np.asarray(v) for k, v in meta.items()}}))
    return out_file
