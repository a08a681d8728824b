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
conditions. Only the parent process writes, holding an exclusive lock on ``OUT/.lock`` for the
run (a second sweep into the same folder is refused): each finished chunk goes to
``chunk_NNNNN.npz`` (temporary file + rename) with its own index and the config hash inside, then
its SHA-256 into ``manifest.json`` (same way), which also embeds the config text and its hash.
Re-running skips chunks whose file matches the recorded checksum, index and length and recomputes
every other one (missing, partial, corrupted, swapped), so a sweep killed at any point resumes to
a bitwise-identical result. ``merge`` re-derives axes, shape and chunk count from the embedded
config (whose hash must match) and checks every chunk again before it gathers anything.

Limits, checked when the config is loaded: at most ``MAX_POINTS`` points, ``MAX_CHUNKS`` chunks
of at most ``MAX_CHUNK_SIZE`` points, and (before the first write) the estimated size on disk
must fit in the free space of ``--out``. Pool workers exit when the parent dies (even by SIGKILL).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError, check_int

from .io import sha256, write_json, write_npz

TASKS = ("regime", "equilibria", "fate", "integrate", "rhs")
TOP_KEYS = {"model": str, "task": str, "chunk_size": int, "seed": int, "params": dict, "grid": dict,
            "initial": dict, "integrate": dict}
INTEGRATE_KEYS = {"t_end": (int, float), "method": str, "rtol": (int, float), "atol": (int, float),
                  "dt": (int, float)}
#: points per chunk by task: about 0.1 s of work each on one core of this 2-core machine
DEFAULT_CHUNK = {"regime": 250_000, "equilibria": 100_000, "fate": 100_000, "integrate": 20_000, "rhs": 2_000_000}
#: the arrays each task writes per chunk (besides ``_chunk`` and ``_config_hash``, see :func:`_check_chunk`)
TASK_KEYS = {"regime": ("regime", "critical"), "equilibria": ("equilibria", "count"), "fate": ("fate",),
             "integrate": ("final", "status", "t_event"), "rhs": ("rhs",)}
#: the optional sections each task reads; any other section is an error
TASK_SECTIONS = {"regime": (), "equilibria": (), "fate": ("initial",), "integrate": ("initial", "integrate"),
                 "rhs": ("initial",)}
#: size limits, checked when the config is loaded (before anything is written)
MAX_POINTS = 10**9
MAX_CHUNKS = 10_000                   # the manifest is rewritten after every chunk
MAX_CHUNK_SIZE = 10_000_000           # one chunk's arrays are held in memory
#: bytes on disk per point (uncompressed NPZ; ``equilibria`` NaN-pads to 6 roots for the cosine model), per chunk
BYTES_PER_POINT = {"regime": 9, "equilibria": 56, "fate": 1, "integrate": 17, "rhs": 8}
BYTES_PER_CHUNK = 1024


def max_workers() -> int:
    """The most local worker processes a sweep starts: 4 per core."""
    return 4 * (os.cpu_count() or 1)


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


def _section_line(text: str, section: str) -> int:
    """Line number (1-based) of the ``[section]`` header; 0 if absent."""
    return next((i for i, ln in enumerate(text.splitlines(), 1) if re.match(rf"^\[\s*{re.escape(section)}\s*\]$", ln.strip())), 0)


def _err(text, path, key, section, msg):
    line = _line_of(text, key, section)
    where = f"{path}:{line}" if line else str(path)
    name = f"{section}.{key}" if section else key
    return ConfigError(f"{where}: {name}: {msg}")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _axis(text, path, section, key, spec):
    if isinstance(spec, list):
        if not spec or not all(_number(v) and math.isfinite(v) for v in spec):
            raise _err(text, path, key, section, "must be a non-empty list of finite numbers")
        return np.asarray(spec, dtype=np.float64)
    if isinstance(spec, dict):
        unknown = set(spec) - {"lo", "hi", "n", "log"}
        if unknown:
            raise _err(text, path, key, section, f"unknown field {sorted(unknown)[0]!r} (allowed: lo, hi, n, log)")
        if not {"lo", "hi", "n"} <= set(spec):
            raise _err(text, path, key, section, "needs numbers lo, hi and an integer n")
        lo, hi, n, log = spec["lo"], spec["hi"], spec["n"], spec.get("log", False)
        for name, v in (("lo", lo), ("hi", hi)):
            if not _number(v) or not math.isfinite(v):
                raise _err(text, path, key, section, f"{name} must be a finite number; got {v!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise _err(text, path, key, section, f"n must be an integer >= 1; got {n!r}")
        if n > MAX_POINTS:
            raise _err(text, path, key, section, f"n = {n} is over the limit of {MAX_POINTS} points per sweep")
        if not isinstance(log, bool):
            raise _err(text, path, key, section, f"log must be true or false; got {log!r}")
        lo, hi = float(lo), float(hi)
        if log:
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
    source: str = ""     # where the text came from (a file name), for messages

    @property
    def shape(self):
        s = tuple(len(v) for _, v in self.axes)
        return s + ((len(self.p0),) if self.p0 is not None else ())

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    @property
    def n_chunks(self) -> int:
        return (self.n_points + self.chunk_size - 1) // self.chunk_size

    def chunk_len(self, i: int) -> int:
        """Number of points in chunk ``i``."""
        lo = i * self.chunk_size
        return min(self.n_points, lo + self.chunk_size) - lo

    @property
    def hash(self) -> str:
        canon = json.dumps({"model": self.model, "task": self.task, "params": self.params,
                            "axes": [(n, v.tolist()) for n, v in self.axes],
                            "p0": None if self.p0 is None else self.p0.tolist(),
                            "integrate": self.integrate, "chunk_size": self.chunk_size, "seed": self.seed},
                           sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()


def load_config(path) -> SweepConfig:
    """Read, parse and validate a sweep TOML file; every error is one line naming the key and its line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at offset {e.start}); TOML files are UTF-8") from None
    return parse_config(text, path)


def parse_config(text: str, path="<config>") -> SweepConfig:
    """Parse and validate the text of a sweep config (``path`` only names it in messages)."""
    import dataclasses

    from symbolic.registry import get_model, model_names

    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"{path}: not valid TOML: {first}") from None
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
    if model not in model_names(supports="equilibria"):
        raise _err(text, path, "model", None, f"must be one of {', '.join(model_names(supports='equilibria'))}; "
                   f"got {model!r}")
    if task not in TASKS:
        raise _err(text, path, "task", None, f"must be one of {', '.join(TASKS)}; got {task!r}")
    for section in ("initial", "integrate"):
        if section in raw and section not in TASK_SECTIONS[task]:
            first = next(iter(raw[section]), None)
            msg = f"task {task} does not use [{section}]; remove it"
            if first is not None:
                raise _err(text, path, first, section, msg)
            line = _section_line(text, section)
            raise ConfigError(f"{path}:{line}: {section}: {msg}" if line else f"{path}: {section}: {msg}")
    cls = get_model(model).params_class
    fields = {f.name for f in dataclasses.fields(cls)}
    params = {}
    for key, value in raw.get("params", {}).items():
        if key not in fields:
            raise _err(text, path, key, "params", f"not a parameter of {model} (allowed: {', '.join(sorted(fields))})")
        if not _number(value):
            raise _err(text, path, key, "params", f"must be a number; got {_TOML_TYPE.get(type(value), type(value).__name__)}")
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
        line = _section_line(text, "grid")
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
    sizes = [(len(v), k, "grid") for k, v in axes] + ([(len(p0), "p0", "initial")] if p0 is not None else [])
    n_points = math.prod(n for n, _, _ in sizes)
    if n_points > MAX_POINTS:
        _, key, section = max(sizes)
        dims = " x ".join(str(n) for n, _, _ in sizes)
        raise _err(text, path, key, section, f"the sweep has {n_points:.3g} points ({dims}), over the limit of "
                   f"{MAX_POINTS:.0e}; use fewer values along the axes")
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
    if not 1 <= chunk <= MAX_CHUNK_SIZE:
        raise _err(text, path, "chunk_size", None, f"must be in [1, {MAX_CHUNK_SIZE}]; got {chunk}")
    n_chunks = (n_points + chunk - 1) // chunk
    if n_chunks > MAX_CHUNKS:
        need = -(-n_points // MAX_CHUNKS)
        msg = (f"{n_points} points in chunks of {chunk} make {n_chunks} chunks, over the limit of {MAX_CHUNKS}; "
               f"set chunk_size >= {need}")
        if "chunk_size" in raw:
            raise _err(text, path, "chunk_size", None, msg)
        raise ConfigError(f"{path}: chunk_size: (default {chunk} for task {task}) {msg}")
    return SweepConfig(model, task, params, tuple(axes), p0, integ, int(chunk), int(raw.get("seed", 0)), text,
                       str(path))


def estimated_bytes(cfg: SweepConfig) -> int:
    """About how many bytes the chunks of ``cfg`` take on disk."""
    return cfg.n_points * BYTES_PER_POINT[cfg.task] + cfg.n_chunks * BYTES_PER_CHUNK


def _check_disk(cfg: SweepConfig, out: Path):
    """Raise (naming [grid] and its line) if the chunks still to write would not fit on the disk of ``out``."""
    have = 0
    if out.is_dir():
        have = sum(p.stat().st_size for p in out.glob("chunk_*.npz") if p.is_file())
    need = estimated_bytes(cfg) - have
    probe = out.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need > free:
        line = _section_line(cfg.text, "grid")
        where = f"{cfg.source}:{line}" if line else cfg.source
        raise ConfigError(f"{where}: grid: the sweep needs about {_size(need)} on disk and {probe} has {_size(free)} "
                          "free; use fewer points or another --out")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


# --- the work of one chunk (runs in a worker) ------------------------------------------------
def _points(cfg: SweepConfig, lo: int, hi: int):
    """Kernel parameter rows and initial conditions of points lo..hi-1."""
    from symbolic.codegen import load_kernels
    from symbolic.registry import params_class

    k = load_kernels(cfg.model, "reduced")
    cls = params_class(cfg.model)
    base = cls(**cfg.params).as_array(k.PARAMS)
    idx = np.unravel_index(np.arange(lo, hi), cfg.shape)
    inv = {v: kk for kk, v in cls.KERNEL_NAMES.items()}
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


def _die_with_parent(parent: int):
    """Make this worker process exit when ``parent`` dies, even by SIGKILL: on Linux the kernel sends
    SIGTERM (prctl PR_SET_PDEATHSIG); everywhere a watchdog thread polls the parent id as well."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)   # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
    if os.getppid() != parent:            # it died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ssldyn-parent-watch", daemon=True).start()


def _init_worker(cfg: SweepConfig, parent: int):
    """Process-pool initializer: die with the parent, leave Ctrl-C to the parent, compile."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm(cfg)


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


#: temporary files of sims.io's atomic writes of this sweep's own files: ``NAME.XXXX.tmp``
_OWN_TMP = re.compile(r"^(?:chunk_(\d{5,})\.npz|manifest\.json)\..+\.tmp$")


def _remove_own_temp_files(out: Path, cfg: SweepConfig):
    """Delete the half-written chunk and manifest files a killed run of this sweep left (hold the lock)."""
    for p in out.iterdir():
        m = _OWN_TMP.match(p.name)
        if m and (m.group(1) is None or int(m.group(1)) < cfg.n_chunks) and p.is_file():
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock(out: Path):
    """Hold an exclusive lock on ``out/.lock`` (released by the kernel if this process dies)."""
    path = out / ".lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise ParameterError(f"{out}: cannot create the lock file {path.name}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ParameterError(f"another sweep holds {out} (lock {path}); wait for it to finish or use another --out") from None
        yield
    finally:
        os.close(fd)


def _manifest_fields(cfg: SweepConfig) -> dict:
    """What a manifest says about its sweep; all of it follows from the config."""
    return {"config_hash": cfg.hash, "model": cfg.model, "task": cfg.task, "shape": list(cfg.shape),
            "axes": [[n, v.tolist()] for n, v in cfg.axes],
            "p0": None if cfg.p0 is None else cfg.p0.tolist(), "n_points": cfg.n_points,
            "chunk_size": cfg.chunk_size, "n_chunks": cfg.n_chunks, "seed": cfg.seed}


def _check_manifest(m: dict, cfg: SweepConfig, mpath: Path):
    """Raise unless manifest ``m`` is what the sweep of ``cfg`` writes: its embedded config hashes to its
    ``config_hash``, every field follows from that config, and its chunk table lists chunks of this sweep."""
    text = m.get("config")
    if not isinstance(text, str):
        raise ParameterError(f"{mpath}: no embedded config (an edited manifest, or one of an older ssldyn); "
                             "re-run the sweep into a new --out")
    if parse_config(text, f"{mpath} (embedded config)").hash != m.get("config_hash"):
        raise ParameterError(f"{mpath}: config_hash does not match the embedded config (the manifest was edited)")
    for key, want in _manifest_fields(cfg).items():
        if m.get(key) != want:
            raise ParameterError(f"{mpath}: {key} differs from what its config gives (the manifest was edited)")
    chunks = m.get("chunks")
    if not isinstance(chunks, dict):
        raise ParameterError(f"{mpath}: chunks must be a table of checksums (the manifest was edited)")
    for k, v in chunks.items():
        if not (re.fullmatch(r"0|[1-9]\d*", k) and int(k) < cfg.n_chunks and isinstance(v, str)):
            raise ParameterError(f"{mpath}: chunks: entry {k!r} is not a chunk of this sweep of {cfg.n_chunks} chunks "
                                 "(the manifest was edited)")


def _new_manifest(cfg: SweepConfig) -> dict:
    return {**_manifest_fields(cfg), "versions": _versions(), "config": cfg.text, "chunks": {}}


def _load_manifest(out: Path, cfg: SweepConfig) -> dict:
    """The manifest to resume with: the one in ``out`` (checked against ``cfg``) with fresh fields, or a new one."""
    path = out / "manifest.json"
    if path.exists():
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            m = None                      # unreadable: start afresh (every chunk is recomputed)
        if m is not None:
            if not isinstance(m, dict) or m.get("config_hash") != cfg.hash:
                h = str(m.get("config_hash", "?") if isinstance(m, dict) else "?")[:12]
                raise ParameterError(f"{out} holds a sweep of a different config (hash {h}); "
                                     "use another --out or delete it")
            _check_manifest(m, cfg, path)
            return {**_new_manifest(cfg), "chunks": dict(m["chunks"])}
    return _new_manifest(cfg)


def _check_chunk(cfg: SweepConfig, i: int, arrays: dict) -> str | None:
    """None if ``arrays`` are chunk ``i`` of ``cfg`` as this module writes it, else what is wrong. Each chunk
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
    if keys != sorted(TASK_KEYS[cfg.task]):
        return f"has arrays {', '.join(keys)}; task {cfg.task} writes {', '.join(sorted(TASK_KEYS[cfg.task]))}"
    n = cfg.chunk_len(i)
    for k in keys:
        if arrays[k].ndim == 0 or arrays[k].shape[0] != n:
            return f"has {k} of shape {arrays[k].shape}; chunk {i} has {n} points"
    return None


def _read_chunk(out: Path, cfg: SweepConfig, manifest: dict, i: int):
    """``(arrays, None)`` for a complete chunk ``i`` whose bytes match its checksum, else ``(None, problem)``."""
    rec = manifest["chunks"].get(str(i))
    try:
        data = _chunk_path(out, i).read_bytes() if rec is not None else None
    except OSError:
        data = None
    if data is None or sha256(data) != rec:
        return None, "is missing or corrupted"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - matching checksum but not an NPZ: an edited manifest
        return None, "is not an NPZ file"
    problem = _check_chunk(cfg, i, arrays)
    return (None, problem) if problem else (arrays, None)


def run_sweep(config_path, out_dir, *, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, progress: bool = True) -> dict:
    """Run (or resume) a sweep; returns the manifest. All checks (config, sizes, free disk space,
    worker count) come before anything is written; the folder is locked for the run."""
    if workers is not None:
        workers = check_int("--workers", workers, lo=1, hi=max_workers())
    if dask_local is not None:
        dask_local = check_int("--dask-local", dask_local, lo=1, hi=max_workers())
    cfg = load_config(config_path)
    out = Path(out_dir)
    _check_disk(cfg, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    with _lock(out):
        manifest = _load_manifest(out, cfg)
        _remove_own_temp_files(out, cfg)
        todo = [i for i in range(cfg.n_chunks) if _read_chunk(out, cfg, manifest, i)[1] is not None]
        for i in todo:
            manifest["chunks"].pop(str(i), None)

        def finish(i, arrays):
            # the chunk first, then its checksum
            digest = write_npz(_chunk_path(out, i), {**arrays, "_chunk": np.int64(i), "_config_hash": np.str_(cfg.hash)})
            manifest["chunks"][str(i)] = digest
            write_json(out / "manifest.json", manifest)
            if bar:
                bar.update(1)

        write_json(out / "manifest.json", manifest)
        if todo:
            _warm(cfg)                                          # compile once, here; workers load the cache
        bar = None
        if progress and todo:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), unit="chunk", desc="sweep")
        try:
            if scheduler or dask_local:
                _run_dask(cfg, todo, finish, scheduler, dask_local)
            elif (workers or os.cpu_count() or 1) <= 1 or len(todo) <= 1:
                for i in todo:
                    finish(i, run_chunk(cfg, i))
            else:
                _run_pool(cfg, todo, finish, workers or os.cpu_count())
        finally:
            if bar:
                bar.close()
    return manifest


def _run_pool(cfg, todo, finish, workers):
    import concurrent.futures as cf
    import multiprocessing as mp

    ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                initializer=_init_worker, initargs=(cfg, os.getpid()))
    try:
        with _sigint_ignored():           # the workers start in submit: a Ctrl-C then reaches only us
            futs = [ex.submit(_work, (cfg, i)) for i in todo]
        for fut in cf.as_completed(futs):
            finish(*fut.result())
    except cf.process.BrokenProcessPool:
        ex.shutdown(wait=False, cancel_futures=True)
        raise ParameterError("a worker process died (killed, or out of memory?); "
                             "finished chunks are kept: run the same command again to resume") from None
    except BaseException:                 # Ctrl-C (workers ignore it) or an error: keep what is done, stop now
        procs = list((getattr(ex, "_processes", None) or {}).values())     # shutdown() forgets them
        ex.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        raise
    ex.shutdown()


@contextlib.contextmanager
def _sigint(handler):
    """Handle SIGINT with ``handler`` for the block (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _sigint_ignored():
    """Ignore SIGINT while worker processes start, so they inherit that and a Ctrl-C reaches only us."""
    return _sigint(signal.SIG_IGN)


def _run_dask(cfg, todo, finish, scheduler, dask_local):
    """Run the chunks on Dask. A Ctrl-C only sets a flag: the loop stops between chunks, the client
    and cluster close quietly, then KeyboardInterrupt (a KeyboardInterrupt raised inside Dask's
    event-loop plumbing would print tracebacks from both sides)."""
    import logging

    from dask.distributed import Client, LocalCluster, as_completed

    stop = threading.Event()
    cluster = client = None
    with _sigint(lambda signum, frame: stop.set()):
        try:
            if dask_local:
                with _sigint_ignored():
                    # our own workers, as quiet as the process pool's: a failed chunk still raises here,
                    # through its future; their log lines on shutdown (heartbeats to a closed
                    # scheduler after a Ctrl-C) are noise
                    cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
            if not stop.is_set():
                client = Client(cluster if cluster else scheduler)
                client.run(_warm, cfg)
            if not stop.is_set():
                futures = [client.submit(_work, (cfg, i), pure=False) for i in todo]
                done = as_completed(futures)
                left = len(futures)
                while left and not stop.is_set():
                    batch = done.next_batch(block=False)
                    if not batch:
                        stop.wait(0.05)
                    for fut in batch:
                        finish(*fut.result())
                        left -= 1
        finally:
            if stop.is_set():             # finished chunks are on disk; drop the rest quietly
                for name in ("distributed", "tornado", "asyncio"):
                    logging.getLogger(name).setLevel(logging.CRITICAL + 1)
            with contextlib.suppress(Exception) if stop.is_set() else contextlib.nullcontext():
                if client is not None:
                    client.close()
                if cluster is not None:
                    cluster.close()
    if stop.is_set():
        raise KeyboardInterrupt


def merge(out_dir, out_file) -> Path:
    """Gather every chunk into one NPZ (or NetCDF for a .nc name, with xarray). The manifest must match
    its embedded config; axes, shape and chunk count come from that config, and every chunk must match
    its checksum, index and length."""
    out = Path(out_dir)
    mpath = out / "manifest.json"
    if not mpath.exists():
        raise ParameterError(f"{out} has no manifest.json: not a sweep folder")
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError) as e:
        raise ParameterError(f"{mpath}: not readable JSON: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), str):
        raise ParameterError(f"{mpath}: no embedded config (an edited manifest, or one of an older ssldyn)")
    cfg = parse_config(manifest["config"], f"{mpath} (embedded config)")
    _check_manifest(manifest, cfg, mpath)
    parts = []
    for i in range(cfg.n_chunks):
        arrays, problem = _read_chunk(out, cfg, manifest, i)
        if problem:
            raise ParameterError(f"{out}: chunk {i} {problem}; re-run the sweep to recompute it")
        parts.append(arrays)
    shape = cfg.shape
    arrays = {}
    for key in TASK_KEYS[cfg.task]:
        first = parts[0][key]
        for i, p in enumerate(parts):
            if p[key].shape[1:] != first.shape[1:] or p[key].dtype != first.dtype:
                raise ParameterError(f"{out}: chunk {i}: {key} is {p[key].dtype}{list(p[key].shape[1:])} per point, "
                                     f"chunk 0's {first.dtype}{list(first.shape[1:])}; re-run the sweep into a new --out")
        a = np.concatenate([p[key] for p in parts])
        arrays[key] = a.reshape(shape + a.shape[1:])
    for name, vals in cfg.axes:
        arrays[f"axis_{name}"] = vals
    if cfg.p0 is not None:
        arrays["axis_p0"] = cfg.p0
    meta = {"model": cfg.model, "task": cfg.task, "config_hash": cfg.hash}
    out_file = Path(out_file)
    if out_file.suffix == ".nc":
        import xarray as xr

        dims = [n for n, _ in cfg.axes] + (["p0"] if cfg.p0 is not None else [])
        coords = {n: v for n, v in cfg.axes}
        if cfg.p0 is not None:
            coords["p0"] = cfg.p0
        data = {k: (dims + [f"{k}_{j}" for j in range(v.ndim - len(dims))], v) for k, v in arrays.items()
                if not k.startswith("axis_")}
        xr.Dataset(data, coords=coords, attrs=meta).to_netcdf(out_file)
        return out_file
    write_npz(out_file, {**arrays, **{k: np.asarray(v) for k, v in meta.items()}})
    return out_file
