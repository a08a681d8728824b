"""Result of a batched integration: final states, a status per trajectory, event times."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symbolic.results import MESSAGES, Result, Status, save_npz_atomic  # noqa: F401


@dataclass(frozen=True)
class BatchResult(Result):
    """Outcome of :func:`dynamics.integrate.integrate` for N trajectories.

    ``final``: (N,) for scalar systems else (N, dim). ``status``: int8 codes of :class:`Status`.
    ``t_event``: divergence / convergence / non-finite time, NaN if none. ``t``, ``ys``: the
    requested output grid and the states on it ((len(t), N) or (len(t), N, dim)); None if not asked.
    Grid points after a trajectory stopped hold NaN (diverged, non-finite, max-steps; ``status``
    says which), except after convergence, where the state stays at the equilibrium.
    """

    final: np.ndarray
    status: np.ndarray
    t_event: np.ndarray
    nsteps: np.ndarray
    method: str
    t: np.ndarray | None = None
    ys: np.ndarray | None = None
    state: tuple = ()
    extra: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)     # the shared parameters, when one set was given

    @property
    def message(self) -> str:
        counts = np.bincount(self.status.astype(np.int64), minlength=4)
        parts = [f"{int(n)} {Status(i).name.lower()}" for i, n in enumerate(counts) if n]
        return f"{len(self.status)} trajectories ({self.method}): " + ", ".join(parts)

    def to_npz(self, path, **extra) -> None:
        """Write final, status, t_event, nsteps (and t, ys) plus ``extra`` atomically."""
        arrays = dict(final=self.final, status=self.status, t_event=self.t_event, nsteps=self.nsteps,
                      method=self.method, state=np.array(self.state))
        if self.t is not None:
            arrays.update(t=self.t, ys=self.ys)
        save_npz_atomic(path, **arrays, **extra)
