"""Result of a batched integration: final states, a status per trajectory, event times."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class Status(enum.IntEnum):
    SUCCESS = 0      # reached t_end, or converged to an equilibrium (t_event set)
    DIVERGED = 1     # |state| exceeded the bound (or blew up to inf/nan from a growing state)
    MAX_STEPS = 2    # the step budget ran out before t_end
    NONFINITE = 3    # non-finite right-hand side, or steps underflow at a moderate state (singular rhs)


MESSAGES = {
    Status.SUCCESS: "reached t_end (or converged: see t_event)",
    Status.DIVERGED: "diverged: |state| exceeded the bound at t_event",
    Status.MAX_STEPS: "stopped after max_steps before t_end",
    Status.NONFINITE: "singular: a non-finite right-hand side or a step-size underflow at t_event",
}


@dataclass(frozen=True)
class BatchResult:
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

    @property
    def success(self) -> np.ndarray:
        return self.status == Status.SUCCESS

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


def save_npz_atomic(path, **arrays) -> None:
    """``numpy.savez`` of ``arrays`` written through :func:`symbolic.files.write_bytes`: a reader
    never sees half a file, and a killed run leaves ``NAME.XXXX.tmp``, never a stray ``*.npz``."""
    import io

    from symbolic.files import write_bytes

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes(path, buf.getvalue(), name="out")
