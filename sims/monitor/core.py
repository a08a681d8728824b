r"""The monitor itself: :class:`Monitor` (measure, log, warn), its JSONL and TensorBoard sinks and
the collapse rule (see :mod:`sims.monitor`)."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from pathlib import Path

from symbolic.errors import ParameterError, check_choice, check_int, check_range

from ..measure import state_record

#: measure every this many optimiser steps by default (cost: see the module docstring)
DEFAULT_EVERY = 200
#: relative rise of the critical decay between two measurements that counts as a lift
LIFT_RTOL = 1e-9
#: the scalars sent to TensorBoard, by record key (``p_top``/``s_top`` go per mode)
SCALARS = ("n_phi", "n_psi", "trace", "norm_w", "asymmetry", "commutator", "rankme", "std_l2",
           "effective_rank", "stable_rank")


class CollapseWarning(UserWarning):
    """The monitored run is heading to collapse (see :mod:`sims.monitor`); issued once per monitor.

    Examples
    --------
    Turn it into an error to stop a run at the first warning:

    >>> import warnings
    >>> from sims.monitor import CollapseWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CollapseWarning)
    ...     try:
    ...         warnings.warn("top mode falling", CollapseWarning)
    ...     except CollapseWarning as w:
    ...         print("stopped:", w)
    stopped: top mode falling
    """


def collapse_reading(theory: dict | None) -> bool | None:
    """True when the theory at the measured norms predicts collapse: the Collapse regime, or no
    top mode in the converge basin; ``None`` without a valid theory reading."""
    if not theory or not theory.get("ok"):
        return None
    return theory["regime"] == "Collapse" or not any(theory["in_basin_top"])


def _matrix(obj, model, what: str):
    """A torch tensor or array from ``obj``: a tensor or array, a module with ``.weight``, a
    zero-argument callable, or a dotted attribute name on ``model``."""
    if isinstance(obj, str):
        if model is None:
            raise ParameterError(f"{what} is the attribute name {obj!r}; pass the model: mon.step(step, model)")
        target = model
        for part in obj.split("."):
            if not hasattr(target, part):
                raise ParameterError(f"{what} must name an attribute of the model; {type(model).__name__} "
                                     f"has no {obj!r}")
            target = getattr(target, part)
        return _matrix(target, None, what)
    if hasattr(obj, "weight") and hasattr(obj.weight, "shape"):
        return obj.weight
    if callable(obj) and not hasattr(obj, "shape"):
        return obj()
    return obj


@contextlib.contextmanager
def _torch_threads_kept():
    """Give torch back its intra-op thread count: loading the theory's numba kernels starts
    numba's OpenMP layer, which resets the OpenMP thread count torch shares (a loop set to one
    thread ran on two after its first measurement)."""
    torch = sys.modules.get("torch")
    n = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if n is not None and torch.get_num_threads() != n:
            torch.set_num_threads(n)


def _numpy(t):
    import numpy as np

    if hasattr(t, "detach"):
        return t.detach().double().cpu().numpy()
    return np.asarray(t, dtype=np.float64)


class Monitor:
    r"""Measure a run against the theory every ``every`` steps, log it and warn once of collapse.

    Call :meth:`step` (or the monitor itself) with the number of optimiser steps done: 0 before
    training, ``i + 1`` after the ``i``-th step. It measures when ``step % every == 0`` (once per
    step value) and returns the record, else ``None``.

    Parameters
    ----------
    head : tensor, module, callable or str
        The predictor :math:`W` (h x h): a tensor, a bias-free ``nn.Linear`` (its ``weight``), a
        zero-argument callable returning one, or a dotted attribute name on the model given to
        :meth:`step`.
    phi : tensor, module, callable or str
        The linear map :math:`\Phi` (h x d) whose outputs the head reads, in the same forms.
    loss : {'cosine', 'l2'}
        The training loss, which selects the theory (Bao eq. 7 or Tian eq. 16).
    rho : float
        The weight decay (the optimiser's ``weight_decay``), in ``[0, inf)``.
    sigma2 : float or None
        The augmentation variance :math:`\sigma^2` in ``[0, inf)``; ``None`` skips the theory
        unless :meth:`step` is given one (:func:`sims.measure.effective_sigma2` estimates it from
        two views' features).
    every : int, optional
        Measure every this many steps, >= 1 (default :data:`DEFAULT_EVERY`).
    log : str or os.PathLike, optional
        A JSONL file: one strict-JSON record per measurement, appended and flushed. Must be a
        regular file or a new path in an existing folder; emptied first unless ``append``.
    embed : callable or str, optional
        Maps ``inputs`` to the outputs :math:`Z` of the collapse diagnostics (e.g. the encoder
        followed by :math:`\Phi`), run under ``torch.no_grad`` in eval mode; a name is looked up
        on the model.
    inputs : tensor, optional
        A fixed evaluation batch for ``embed``.
    tensorboard : str, os.PathLike or writer, optional
        A log folder for ``torch.utils.tensorboard.SummaryWriter`` (needs the ``tensorboard``
        package) or an object with ``add_scalar`` (and ``add_text``).
    top : int, optional
        How many leading eigenvalues to follow (default 8).
    theory : bool, optional
        Evaluate the theory at the measured norms (default True; without it, no warning).
    warn : bool, optional
        Warn once when the run is heading to collapse (default True).
    patience : int, optional
        Measurements in a row that read collapse, with a falling top eigenvalue and a critical
        decay that does not rise, before the warning (default 2; the first measurement has no
        trend and never counts).
    append : bool, optional
        Append to an existing ``log`` instead of emptying it.

    Raises
    ------
    ParameterError
        For a bad value, naming the parameter: ``every`` below 1, a ``log`` that is a directory,
        a device or a link, a ``log`` folder that does not exist, an unknown ``loss``, ...

    Examples
    --------
    A plain loop on a linear SimSiam (d = h = 4) with the L2 loss above the critical decay
    :math:`\eta_c=1/(4(1+\sigma^2))=1/6`:

    >>> import warnings
    >>> import torch
    >>> from sims.monitor import Monitor, CollapseWarning
    >>> g = torch.Generator().manual_seed(0)
    >>> phi = torch.nn.Parameter(torch.randn(4, 4, generator=g) / 2)
    >>> w = torch.nn.Parameter(torch.eye(4))
    >>> x_eval = torch.randn(64, 4, generator=g)
    >>> mon = Monitor(head=w, phi=phi, loss="l2", rho=0.3, sigma2=0.5, every=5, top=2,
    ...               embed=lambda x: x @ phi.T, inputs=x_eval)
    >>> opt = torch.optim.SGD([phi, w], lr=0.05, weight_decay=0.3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rec = mon.step(0)
    ...     for i in range(10):
    ...         x = torch.randn(32, 4, generator=g)
    ...         x1, x2 = x + 0.7 * torch.randn_like(x), x + 0.7 * torch.randn_like(x)
    ...         z1, z2 = x1 @ phi.T, x2 @ phi.T
    ...         loss = 0.25 * (((z1 @ w.T - z2.detach()) ** 2).sum(1).mean()
    ...                        + ((z2 @ w.T - z1.detach()) ** 2).sum(1).mean())
    ...         opt.zero_grad(); loss.backward(); opt.step()
    ...         rec = mon.step(i + 1) or rec
    >>> rec["step"], rec["theory"]["regime"], round(rec["theory"]["critical_value"], 6)
    (10, 'Collapse', 0.166667)
    >>> [issubclass(c.category, CollapseWarning) for c in caught], mon.warned_at
    ([True], 10)
    """

    def __init__(self, head, phi, *, loss: str, rho: float, sigma2: float | None, every: int = DEFAULT_EVERY,
                 log=None, embed=None, inputs=None, tensorboard=None, top: int = 8, theory: bool = True,
                 warn: bool = True, patience: int = 2, append: bool = False):
        self.every = check_int("every", every, 1)
        self.loss = check_choice("loss", loss, ("cosine", "l2"))
        self.rho = check_range("rho", rho, 0.0)
        self.sigma2 = None if sigma2 is None else check_range("sigma2", sigma2, 0.0)
        self.top = check_int("top", top, 1)
        self.patience = check_int("patience", patience, 1)
        for name, obj in (("head", head), ("phi", phi)):
            if obj is None:
                raise ParameterError(f"{name} must be a tensor, a module with .weight, a callable or an "
                                     f"attribute name; got None")
        if inputs is not None and embed is None:
            raise ParameterError("embed must be given with inputs (the outputs Z = embed(inputs)); got None")
        self.head, self.phi, self.embed, self.inputs = head, phi, embed, inputs
        self.theory, self.warn = bool(theory), bool(warn)
        self.log_path = None if log is None else _check_log(log)
        self._append = bool(append)
        self._fh = None
        self.writer, self._own_writer = _writer(tensorboard)
        self.records_written = 0
        self.warned_at = None          # the step of the warning, once given
        self.warning = None            # its message
        self._streak = 0
        self._prev = None              # (critical decay, largest p_j) of the previous theory reading
        self._last_step = None

    # -- measuring ------------------------------------------------------------------------
    def due(self, step: int) -> bool:
        """Whether :meth:`step` measures at ``step`` (a multiple of ``every`` not measured yet)."""
        return step % self.every == 0 and step != self._last_step

    def measure(self, model=None, outputs=None, sigma2: float | None = None, theory: bool | None = None) -> dict:
        r"""Measure now (no schedule, no log, no warning): :func:`sims.measure.state_record` of
        the current :math:`W`, :math:`\Phi` and outputs.

        ``outputs`` (a tensor or array, or a zero-argument callable returning one) replaces
        ``embed(inputs)``; ``sigma2`` and ``theory``, when given, replace the monitor's
        :math:`\sigma^2` and theory switch for this measurement.
        """
        W = _numpy(_matrix(self.head, model, "head"))
        Phi = _numpy(_matrix(self.phi, model, "phi"))
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ParameterError(f"head must be a square (h, h) matrix; got shape {W.shape}")
        if Phi.ndim != 2 or Phi.shape[0] != W.shape[0]:
            raise ParameterError(f"phi must be an (h, d) matrix with the head's h = {W.shape[0]} rows; "
                                 f"got shape {Phi.shape}")
        Z = self._outputs(model, outputs)
        s2 = self.sigma2 if sigma2 is None else sigma2
        with _torch_threads_kept():
            return state_record(W, Phi, Z, loss=self.loss, rho=self.rho, sigma2=s2, top=self.top,
                                theory=self.theory if theory is None else theory)

    def _outputs(self, model, outputs):
        if outputs is not None:
            return outputs() if callable(outputs) and not hasattr(outputs, "shape") else outputs
        if self.embed is None or self.inputs is None:
            return None
        import torch

        if isinstance(self.embed, str) and not hasattr(model, self.embed):
            raise ParameterError(f"embed must name a method of the model passed to mon.step(step, model); "
                                 f"got {self.embed!r} and {type(model).__name__}")
        fn = getattr(model, self.embed) if isinstance(self.embed, str) else self.embed
        mod = model if model is not None and hasattr(model, "train") else None
        was = mod.training if mod is not None else None
        if mod is not None:
            mod.eval()
        try:
            with torch.no_grad():
                return fn(self.inputs)
        finally:
            if mod is not None:
                mod.train(was)

    def step(self, step: int, model=None, outputs=None, sigma2: float | None = None, **extra):
        """Measure, log and check for collapse when :meth:`due`; return the record or ``None``.

        ``extra`` (e.g. ``loss=loss.item()``, ``epoch=e``) is stored in the record after ``step``.
        """
        step = check_int("step", step, 0)
        if not self.due(step):
            return None
        rec = {"step": step, **extra, **self.measure(model, outputs, sigma2), "heading_to_collapse": False}
        self._last_step = step
        self._check_collapse(step, rec)
        self._log(rec)
        return rec

    __call__ = step

    def _check_collapse(self, step: int, rec: dict) -> None:
        th = rec.get("theory")
        reading = collapse_reading(th)
        if reading is None:
            return
        crit, p_max = th["critical_value"], max(rec["p_top"])
        prev = self._prev
        self._prev = (crit, p_max)
        if prev is None:               # no trend yet: the first reading does not count
            return
        lifting = crit > prev[0] * (1 + LIFT_RTOL)
        falling = p_max < prev[1]
        self._streak = self._streak + 1 if reading and falling and not lifting else 0
        rec["heading_to_collapse"] = self._streak >= self.patience
        if rec["heading_to_collapse"] and self.warn and self.warned_at is None:
            self.warned_at, self.warning = step, _message(step, self.loss, self.rho, rec)
            rec["warning"] = self.warning
            warnings.warn(self.warning, CollapseWarning, stacklevel=3)

    # -- logging --------------------------------------------------------------------------
    def _log(self, rec: dict) -> None:
        from symbolic.results import plain

        if self.log_path is not None:
            if self._fh is None:
                self._fh = _open_log(self.log_path, self._append)
            self._fh.write(json.dumps(plain(rec), allow_nan=False) + "\n")
            self._fh.flush()
            self.records_written += 1
        if self.writer is not None:
            _to_tensorboard(self.writer, rec)

    def close(self) -> None:
        """Close the log file and a TensorBoard writer the monitor opened."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.writer is not None and self._own_writer:
            self.writer.close()
            self.writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_log(log) -> Path:
    from symbolic.files import check_target

    path = check_target(log, name="log")
    if not path.parent.is_dir():
        raise ParameterError(f"log must be in an existing folder; got {str(path)!r}")
    return path


def _open_log(path: Path, append: bool):
    from symbolic.files import check_target, write_text

    if not append or not path.exists():
        write_text(path, "", name="log")       # atomic create/empty; refuses what is not a regular file
    check_target(path, name="log")
    return open(path, "a")


def _writer(tensorboard):
    if tensorboard is None:
        return None, False
    if hasattr(tensorboard, "add_scalar"):
        return tensorboard, False
    if not isinstance(tensorboard, (str, os.PathLike)):
        raise ParameterError(f"tensorboard must be a log folder or a writer with add_scalar; got {tensorboard!r}")
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ParameterError("tensorboard needs the tensorboard package (pip install tensorboard); "
                             f"got {os.fspath(tensorboard)!r}") from None
    return SummaryWriter(log_dir=os.fspath(tensorboard)), True


def _to_tensorboard(writer, rec: dict) -> None:
    import math

    from dynamics.critical_decay import REGIMES

    step = rec["step"]

    def put(tag, v):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            writer.add_scalar(f"ssldyn/{tag}", v, step)

    for k in SCALARS:
        put(k, rec.get(k))
    for k in ("p_top", "s_top"):
        for j, v in enumerate(rec.get(k) or []):
            put(f"{k}/{j}", v)
    th = rec.get("theory") or {}
    if th.get("ok"):
        put("critical_value", th["critical_value"])
        put("p4", th["p4"])
        put("regime", REGIMES.index(th["regime"]))
        put("basin_fraction_top", sum(th["in_basin_top"]) / max(1, len(th["in_basin_top"])))
    if "warning" in rec and hasattr(writer, "add_text"):
        writer.add_text("ssldyn/warning", rec["warning"], step)


def _message(step: int, loss: str, rho: float, rec: dict) -> str:
    th = rec["theory"]
    name, crit = th["critical_name"], th["critical_value"]
    if th["regime"] == "Collapse":
        why = f"weight decay {rho:g} is above the critical decay {name} = {crit:.4g} at the measured norms"
    else:
        why = f"none of the top {len(th['fates_top'])} modes is in the converge basin"
    return (f"the run is heading to collapse at step {step} ({loss} loss): {why}; the top eigenvalue is "
            f"falling (now {max(rec['p_top']):.4g}) and {name} is not rising; predicted fates of the top "
            f"modes: {', '.join(th['fates_top'])}")
