r"""Sweep configs: TOML text -> a checked, frozen :class:`SweepConfig`.

Every key is checked before any work, and an error is one line naming the key and its line
(``c.toml:12: grid.rho: n must be an integer >= 1; got 0``); docs/sweep_config.md lists every
key. The size limits (points, chunks, chunk size, and the free disk space of ``--out``) are
checked here too. The points of a sweep are the Cartesian product of the grid axes (first axis
slowest), then the initial axes (``p0`` for the reduced form, one per state variable for the
eigen form, in the kernel's state order).

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions and of :class:`SweepConfig`); the code itself stays under 400 lines
(tests/test_module_size.py).
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError, check_range

from .axes import (MAX_POINTS, ConfigError, check_sizes, hash_lists, is_number, key_error,  # noqa: F401
                   parse_axis, section_line, toml_type)
from .disk import check_disk, estimated_bytes, manifest_bytes  # noqa: F401  (their home was here)
from .tasks import DEFAULT_CHUNK, TASK_SECTIONS, TASKS

TOP_KEYS = {"model": str, "task": str, "form": str, "chunk_size": int, "params": dict, "grid": dict,
            "initial": dict, "integrate": dict}
#: keys that were removed, with what to do instead
REMOVED_KEYS = {"seed": "removed: it never changed a result; random initial values take their own seed, "
                        'e.g. p0 = {random = "uniform", lo = -1.0, hi = 1.0, n = 100, seed = 0}'}
INTEGRATE_KEYS = {"t_end": (int, float), "method": str, "rtol": (int, float), "atol": (int, float),
                  "dt": (int, float), "converge_tol": (int, float), "t_eval": list}
#: (key, lo, hi, lo_open) of the numbers of [integrate], as dynamics.integrate checks them (hi open)
INTEGRATE_RANGES = (("t_end", 0.0, math.inf, True), ("rtol", 1e-15, 1.0, False), ("atol", 0.0, math.inf, False),
                    ("dt", 0.0, math.inf, True), ("converge_tol", 0.0, math.inf, True))
#: size limits, checked when the config is loaded (before anything is written)
MAX_CHUNKS = 10_000                   # the manifest is rewritten after every chunk
MAX_CHUNK_SIZE = 10_000_000           # one chunk's arrays are held in memory
MAX_T_EVAL = 10_000                   # output times of the integrate task
MAX_CONFIG_BYTES = 64 << 20           # a config file (the axes' values may be listed in it)
#: the hash of every config includes this: the value of the removed ``seed`` key, so that the
#: hashes of sweeps written before its removal are unchanged (and they still resume and merge)
_LEGACY_HASH_FIELDS = {"seed": 0}


def model_params_class(model: str, text: str = "", path="<config>"):
    """The parameter dataclass of a sweepable ``model`` (one with an equilibrium polynomial in the
    registry, :mod:`symbolic.registry`); the one place that knows which models a sweep takes."""
    from symbolic.registry import get_model, model_names

    if model not in model_names(supports="equilibria"):
        raise key_error(text, path, "model", None, f"must be one of {', '.join(model_names(supports='equilibria'))}; "
                        f"got {model!r}")
    return get_model(model).params_class


def model_field(model: str, key: str):
    """The parameter field that config key ``key`` means for ``model`` (``n_psi``, ``n-psi`` or the
    kernel name ``N_Psi``: :func:`symbolic.registry.field_name`), or None if it is none."""
    from symbolic.registry import field_name

    try:
        return field_name(model, key)
    except ParameterError:
        return None


def form_state(model: str, form: str) -> tuple:
    """The state variables of ``model``'s ``form``, in the kernel's order (from the cached derivation)."""
    from symbolic.models import derive

    return tuple(derive(model, form).state)


@dataclass(frozen=True)
class SweepConfig:
    """A checked sweep: ``axes`` and ``initial`` are ``((name, values), ...)``; ``text`` the TOML.

    Made by :func:`parse_config` / :func:`load_config` (``sims.parse_sweep_config``,
    ``sims.load_sweep_config``), which check every key of the TOML text; constructed directly, only
    ``task``, ``form`` and ``chunk_size`` are checked. Frozen. Derived from the fields: ``shape``
    (the axes' lengths, grid then initial), ``n_points``, ``n_chunks``, :meth:`chunk_len`, ``p0``
    (the reduced form's initial values, or ``None``) and ``hash`` (SHA-256 of the canonical fields,
    hex; a sweep folder only resumes and merges with the config of its hash).

    Parameters
    ----------
    model : str
        A model with an equilibrium polynomial (``symbolic.model_names(supports="equilibria")``).
    task : {'regime', 'equilibria', 'fate', 'integrate', 'rhs'}
        What is computed per point (docs/sweep_config.md).
    params : dict
        The fixed parameters, ``{field name: float}`` (fields of the model's dataclass).
    axes : tuple of (str, numpy.ndarray)
        The grid axes, ``((field name, values), ...)``, first axis slowest.
    initial : tuple of (str, numpy.ndarray)
        The initial axes: ``(("p0", values),)`` for the reduced form, one per state variable for the
        eigen form, ``()`` for the tasks without ``[initial]``.
    integrate : dict
        The ``[integrate]`` options (task ``integrate``; ``{}`` otherwise).
    chunk_size : int
        Points per chunk file, in ``[1, MAX_CHUNK_SIZE]``.
    text : str
        The TOML text (embedded in the sweep's ``manifest.json``).
    source : str, optional
        Where the text came from (a file name), for messages.
    form : {'reduced', 'eigen'}, optional
        Which derived ODE (``eigen`` only for task ``integrate``).
    random : dict or None, optional
        Initial axis name -> its random spec (``None``: no random axis).

    Raises
    ------
    ParameterError
        If ``task`` is unknown, ``form`` is not one of the task's forms or ``chunk_size`` is out of
        range.

    Examples
    --------
    >>> import numpy as np
    >>> from sims import SweepConfig
    >>> cfg = SweepConfig("l2-byol", "fate", {"sigma2": 0.5}, (("eta", np.array([0.0, 0.1])),),
    ...                   (("p0", np.array([-1.0, 0.5, 1.0])),), {}, 4, "")
    >>> cfg.shape, cfg.n_points, cfg.n_chunks, [cfg.chunk_len(i) for i in range(cfg.n_chunks)]
    ((2, 3), 6, 2, [4, 2])
    >>> cfg.p0.tolist(), len(cfg.hash)
    ([-1.0, 0.5, 1.0], 64)
    >>> SweepConfig("l2-byol", "fate", {}, (), (), {}, 0, "")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: chunk_size must be in [1, 10000000]; got 0
    """
    model: str
    task: str
    params: dict
    axes: tuple          # ((name, values), ...)
    initial: tuple       # ((name, values), ...): ("p0", values) for the reduced form, () without [initial]
    integrate: dict
    chunk_size: int
    text: str
    source: str = ""     # where the text came from (a file name), for messages
    form: str = "reduced"
    random: dict | None = None  # initial axis name -> its random spec (None: no random axis)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ParameterError(f"task must be one of {', '.join(TASKS)}; got {self.task!r}")
        if self.form not in TASKS[self.task].forms:
            raise ParameterError(f"form must be one of {', '.join(TASKS[self.task].forms)}; got {self.form!r}")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ParameterError(f"chunk_size must be in [1, {MAX_CHUNK_SIZE}]; got {self.chunk_size}")

    @property
    def p0(self) -> np.ndarray | None:
        """The initial values of the reduced form's state p (None for tasks without [initial])."""
        return self.initial[0][1] if self.initial and self.form == "reduced" else None

    @property
    def params_class(self):
        return model_params_class(self.model)

    @property
    def shape(self):
        return tuple(len(v) for _, v in self.axes) + tuple(len(v) for _, v in self.initial)

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

    def extra_fields(self, values: bool = True) -> dict:
        """What a config says beyond the fields every sweep had (only what it sets, so that the hash
        of a config without the newer keys is what it always was); ``values=False`` leaves out the
        initial axes' values (the manifest's version: they follow from the embedded config)."""
        extra = {}
        if self.form != "reduced":
            extra["form"] = self.form
            if values:
                extra["initial"] = [[n, v.tolist()] for n, v in self.initial]
        if self.random:
            extra["random"] = self.random
        from symbolic.registry import get_model

        if self.task != "train" and get_model(self.model).user:          # a user model's results follow from its expressions too
            extra["model_fingerprint"] = get_model(self.model).fingerprint
        return extra

    @functools.cached_property
    def hash(self) -> str:
        # SHA-256 of json.dumps({...every field, the axes' values included...}, sort_keys=True), fed
        # in pieces: the value lists are encoded a block at a time, never as one string (20 million
        # values would be a 400 MB string and 1 GB of Python floats)
        lists = {"axes": self.axes} if self.p0 is None else {"axes": self.axes, "p0": (self.p0,)}
        extra = self.extra_fields(values=False)
        if self.form != "reduced":
            lists["initial"] = self.initial
        fields = {"model": self.model, "task": self.task, "params": self.params, "p0": None,
                  "integrate": self.integrate, "chunk_size": self.chunk_size, **_LEGACY_HASH_FIELDS, **extra}
        canon = json.dumps({**fields, **{k: f"\0{k}\0" for k in lists}}, sort_keys=True)
        h = hashlib.sha256()
        for j, piece in enumerate(re.split(r'"\\u0000(axes|p0|initial)\\u0000"', canon)):
            if j % 2:
                hash_lists(h, lists[piece], named=piece != "p0")
            else:
                h.update(piece.encode())
        return h.hexdigest()


def load_config(path: str | os.PathLike) -> SweepConfig:
    r"""Read, parse and validate a sweep TOML file; every error is one line naming the key and its line.

    Exported as ``sims.load_sweep_config``; the keys are those of docs/sweep_config.md.

    Parameters
    ----------
    path : str or os.PathLike
        The TOML file (UTF-8).

    Returns
    -------
    SweepConfig
        The checked config; its ``source`` is ``path``.

    Raises
    ------
    ConfigError
        (A :class:`~symbolic.errors.ParameterError`.) If the file is missing, a folder, unreadable
        or not UTF-8, or as :func:`parse_config`.

    See Also
    --------
    parse_config : the same for TOML text.

    Examples
    --------
    The regime map shipped in ``sims/examples``, 1000 weight decays by 400 values of
    :math:`N_\Psi`, in two chunks of at most 250000 points (the regime task's default):

    >>> from importlib.resources import files
    >>> from sims import load_sweep_config
    >>> cfg = load_sweep_config(files("sims") / "examples" / "regime_rho_npsi.toml")
    >>> cfg.model, cfg.task, [name for name, _ in cfg.axes], cfg.shape, cfg.n_chunks
    ('cosine-simsiam', 'regime', ['rho', 'n_psi'], (1000, 400), 2)
    >>> load_sweep_config("no-such-config.toml")
    Traceback (most recent call last):
    ...
    sims.sweep.axes.ConfigError: no-such-config.toml: config file not found
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: the config is {path.stat().st_size} bytes, more than {MAX_CONFIG_BYTES}")
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


def parse_config(text: str, path: str | os.PathLike = "<config>") -> SweepConfig:
    r"""Parse and validate the text of a sweep config (``path`` only names it in messages).

    Exported as ``sims.parse_sweep_config``. Every key is checked (docs/sweep_config.md): the model,
    the task and its sections, each parameter by the model's dataclass (both ends of every grid
    axis), the size limits (points, chunks, chunk size).

    Parameters
    ----------
    text : str
        The TOML text.
    path : str or os.PathLike, optional
        What to call the text in messages (a file name).

    Returns
    -------
    SweepConfig
        The checked config.

    Raises
    ------
    ConfigError
        (A :class:`~symbolic.errors.ParameterError`.) For invalid TOML or any bad key or value: one
        line ``PATH:LINE: SECTION.KEY: problem``.

    See Also
    --------
    load_config : the same for a file.

    Examples
    --------
    The regimes of the L2 model over five values of :math:`\eta` and two of :math:`\tau`:

    >>> from sims import parse_sweep_config
    >>> cfg = parse_sweep_config('model = "l2-byol"\ntask = "regime"\n[params]\nsigma2 = 0.5\n'
    ...                          '[grid]\neta = {lo = 0.0, hi = 0.2, n = 5}\ntau = [0.5, 1.0]\n')
    >>> cfg.params, [name for name, _ in cfg.axes], cfg.shape, cfg.n_points
    ({'sigma2': 0.5}, ['eta', 'tau'], (5, 2), 10)
    >>> [round(float(v), 4) for v in cfg.axes[0][1]]
    [0.0, 0.05, 0.1, 0.15, 0.2]

    A bad value is one line naming the key and its line:

    >>> parse_sweep_config('model = "l2-byol"\ntask = "regime"\n[grid]\neta = {lo = -1.0, hi = 0.2, n = 3}\n')
    Traceback (most recent call last):
    ...
    sims.sweep.axes.ConfigError: <config>:4: grid.eta: eta must be in [0, inf); got -1.0
    """
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"{path}: not valid TOML: {first}") from None
    for key, value in raw.items():
        if key in REMOVED_KEYS:
            raise key_error(text, path, key, None, REMOVED_KEYS[key])
        if key not in TOP_KEYS:
            raise key_error(text, path, key, None, f"unknown key (allowed: {', '.join(TOP_KEYS)})")
        want = TOP_KEYS[key]
        if not isinstance(value, want) or isinstance(value, bool):
            raise key_error(text, path, key, None, f"must be {toml_type(want)}; got {toml_type(value)}")
    for key in ("model", "task", "grid"):
        if key not in raw:
            raise ConfigError(f"{path}: missing required key {key!r}")
    if raw["task"] == "train":                       # recipe axes, not model parameters
        from .train_task import parse_train
        params, axes = parse_train(text, path, raw)
        return SweepConfig("linear", "train", params, axes, (), {}, 1, text, str(path), "linear", None)
    model, task = raw["model"], raw["task"]
    cls = model_params_class(model, text, path)
    if task not in TASKS:
        raise key_error(text, path, "task", None, f"must be one of {', '.join(TASKS)}; got {task!r}")
    form = raw.get("form", "reduced")
    if form not in TASKS[task].forms:
        raise key_error(text, path, "form", None, f"task {task} takes form {' or '.join(TASKS[task].forms)}; got {form!r}")
    for section in ("initial", "integrate"):
        if section in raw and section not in TASK_SECTIONS[task]:
            first = next(iter(raw[section]), None)
            msg = f"task {task} does not use [{section}]; remove it"
            if first is not None:
                raise key_error(text, path, first, section, msg)
            line = section_line(text, section)
            raise ConfigError(f"{path}:{line}: {section}: {msg}" if line else f"{path}: {section}: {msg}")
    state = form_state(model, form) if form != "reduced" else ("p",)
    check_sizes(text, path, raw, TASKS[task].needs_initial)
    params = _params(text, path, raw, model, cls, state)
    axes = _grid(text, path, raw, model, cls, params, state)
    initial, random = _initial(text, path, raw, task, form, state) if TASKS[task].needs_initial else ((), {})
    sizes = [(len(v), k, "grid") for k, v in axes] + [(len(v), k, "initial") for k, v in initial]
    n_points = math.prod(n for n, _, _ in sizes)
    if n_points > MAX_POINTS:
        _, key, section = max(sizes)
        dims = " x ".join(str(n) for n, _, _ in sizes)
        raise key_error(text, path, key, section, f"the sweep has {n_points:.3g} points ({dims}), over the limit of "
                        f"{MAX_POINTS:.0e}; use fewer values along the axes")
    integ = _integrate(text, path, raw) if "integrate" in TASK_SECTIONS[task] else {}
    chunk = _chunk_size(text, path, raw, task, n_points)
    return SweepConfig(model, task, params, tuple(axes), initial, integ, chunk, text, str(path), form, random or None)


def _params(text, path, raw, model, cls, state) -> dict:
    """The fixed parameters of ``[params]``, checked by the model's dataclass."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(cls)}
    params = {}
    for key, value in raw.get("params", {}).items():
        name = model_field(model, key)
        if name not in fields:
            raise key_error(text, path, key, "params", f"not a parameter of {model} (allowed: {', '.join(sorted(fields))})")
        if name in params:
            raise key_error(text, path, key, "params", f"gives {name} a second time")
        if not is_number(value):
            raise key_error(text, path, key, "params", f"must be a number; got {toml_type(value)}")
        if _field_is_state(cls, name, state):
            raise key_error(text, path, key, "params", f"is a state variable of the eigen form of {model}; "
                            "give its initial values in [initial]")
        params[name] = float(value)
    try:
        cls(**params)
    except ParameterError as e:
        bad = next((k for k in raw["params"] if re.match(rf"^{re.escape(model_field(model, k))}\b", str(e))), None)
        if bad is not None:
            raise key_error(text, path, bad, "params", str(e)) from None
        raise ConfigError(f"{path}: [params]: {e}") from None
    return params


def _field_is_state(cls, field, state) -> bool:
    """Whether dataclass ``field`` is a state variable of the form (l2-byol's tau in its eigen form)."""
    inv = {v: k for k, v in cls.KERNEL_NAMES.items()}
    return state != ("p",) and inv.get(field) in state


def _grid(text, path, raw, model, cls, params, state) -> list:
    """The grid axes ``[(field, values), ...]``; every end point checked by the model's dataclass."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(cls)}
    if not raw["grid"]:
        line = section_line(text, "grid")
        raise ConfigError(f"{path}:{line}: grid: empty grid: give at least one axis")
    axes = []
    for key, spec in raw["grid"].items():
        name = model_field(model, key)
        if name not in fields:
            raise key_error(text, path, key, "grid", f"not a parameter of {model} (allowed: {', '.join(sorted(fields))})")
        if name in params:
            raise key_error(text, path, key, "grid", "is also fixed in [params]; give it in one place only")
        if name in dict(axes):
            raise key_error(text, path, key, "grid", f"gives the axis {name} a second time")
        if _field_is_state(cls, name, state):
            raise key_error(text, path, key, "grid", f"is a state variable of the eigen form of {model}; "
                            "give its initial values in [initial]")
        vals = parse_axis(text, path, "grid", key, spec)
        # the ends bound an interval; the smallest non-zero magnitude and a value outside a discrete
        # field's set are checked too (neither limit is an interval)
        probe = [vals.min(), vals.max()] + [v[np.argmin(np.abs(v))] for v in (vals[vals != 0],) if v.size]
        allowed = getattr(cls, "DISCRETE", {}).get(name)
        if allowed:
            probe += [v[0] for v in (vals[~np.isin(vals, allowed[0])],) if v.size]
        for v in probe:
            try:
                cls(**{**params, name: float(v)})
            except ParameterError as e:
                raise key_error(text, path, key, "grid", str(e)) from None
        axes.append((name, vals))
    return axes


def _initial(text, path, raw, task, form, state):
    """The initial axes: ``(("p0", values),)`` for the reduced form, one per state variable (in the
    kernel's order) for the eigen form; and the random specs, by axis name."""
    init = raw.get("initial", {})
    names = ("p0",) if form == "reduced" else state
    for key in init:
        if key not in names:
            raise key_error(text, path, key, "initial", f"unknown key (allowed: {', '.join(names)})")
    missing = [n for n in names if n not in init]
    if missing and form == "reduced":
        raise ConfigError(f"{path}: [initial]: task {task} needs p0")
    if missing:
        raise ConfigError(f"{path}: [initial]: the {form} form needs initial values of every state variable "
                          f"({', '.join(names)}); missing {', '.join(missing)}")
    axes = tuple((n, parse_axis(text, path, "initial", n, init[n], random=True)) for n in names)
    random = {n: dict(init[n]) for n in names if isinstance(init[n], dict) and "random" in init[n]}
    return axes, random


def _integrate(text, path, raw) -> dict:
    """The options of ``[integrate]`` (passed to dynamics.integrate.integrate as given)."""
    sec = raw.get("integrate", {})
    for key, value in sec.items():
        if key not in INTEGRATE_KEYS:
            raise key_error(text, path, key, "integrate", f"unknown key (allowed: {', '.join(INTEGRATE_KEYS)})")
        if not isinstance(value, INTEGRATE_KEYS[key]) or isinstance(value, bool):
            raise key_error(text, path, key, "integrate", "has the wrong type")
    if "t_end" not in sec:
        raise ConfigError(f"{path}: [integrate]: task integrate needs t_end")
    t_end = sec["t_end"]
    if not t_end > 0:
        raise key_error(text, path, "t_end", "integrate", f"must be > 0; got {t_end!r}")
    from dynamics.tableaus import METHOD_NAMES    # the one method table

    if sec.get("method", "tsit5") not in METHOD_NAMES:
        raise key_error(text, path, "method", "integrate",
                        f"must be {', '.join(METHOD_NAMES[:-1])} or {METHOD_NAMES[-1]}; got {sec['method']!r}")
    for key, lo, hi, lo_open in INTEGRATE_RANGES:
        if key in sec:
            try:
                check_range(key, sec[key], lo, hi, lo_open=lo_open)
            except ParameterError as e:
                raise key_error(text, path, key, "integrate", str(e).removeprefix(f"{key} ")) from None
    if "t_eval" in sec:
        _check_t_eval(text, path, sec["t_eval"], t_end)
    return dict(sec)


def _check_t_eval(text, path, ts, t_end):
    if not ts or len(ts) > MAX_T_EVAL or not all(is_number(t) and math.isfinite(t) for t in ts):
        raise key_error(text, path, "t_eval", "integrate",
                        f"must be a list of 1 to {MAX_T_EVAL} finite numbers (output times)")
    if any(b <= a for a, b in zip(ts, ts[1:])):
        raise key_error(text, path, "t_eval", "integrate", "must be strictly increasing")
    if ts[0] < 0 or ts[-1] > t_end:
        raise key_error(text, path, "t_eval", "integrate", f"times must be in [0, t_end = {t_end!r}]; "
                        f"got {ts[0]!r} .. {ts[-1]!r}")


def _chunk_size(text, path, raw, task, n_points) -> int:
    chunk = raw.get("chunk_size", DEFAULT_CHUNK[task])
    if not 1 <= chunk <= MAX_CHUNK_SIZE:
        raise key_error(text, path, "chunk_size", None, f"must be in [1, {MAX_CHUNK_SIZE}]; got {chunk}")
    n_chunks = (n_points + chunk - 1) // chunk
    if n_chunks > MAX_CHUNKS:
        need = -(-n_points // MAX_CHUNKS)
        msg = (f"{n_points} points in chunks of {chunk} make {n_chunks} chunks, over the limit of {MAX_CHUNKS}; "
               f"set chunk_size >= {need}")
        if "chunk_size" in raw:
            raise key_error(text, path, "chunk_size", None, msg)
        raise ConfigError(f"{path}: chunk_size: (default {chunk} for task {task}) {msg}")
    return int(chunk)


def check_kernel_axes(cfg: SweepConfig):
    """Raise (naming the key and its line) for a grid axis that the generated kernel of the config's
    form does not take (``beta`` of l2-byol's reduced form). Needs the kernel module, so
    :func:`run_sweep` calls it after loading the config and before it writes anything."""
    if TASKS[cfg.task].points is not None:        # points are not kernel rows (task train)
        return
    from symbolic.codegen import load_kernels

    cls = cfg.params_class
    taken = [cls.KERNEL_NAMES[p] for p in load_kernels(cfg.model, cfg.form).PARAMS]
    for name, _ in cfg.axes:
        if name not in taken:
            key = next(k for k in tomllib.loads(cfg.text)["grid"] if model_field(cfg.model, k) == name)   # as written
            raise key_error(cfg.text, cfg.source, key, "grid", f"the {cfg.form} form of {cfg.model} does not depend "
                            f"on it (it takes {', '.join(taken)}); sweep one of those")
