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
    :func:`dynamics.systems.integrate_coupled` returns one too (``final`` (B, 2h), ``extra`` ``{'h': h}``).

    Parameters
    ----------
    final : numpy.ndarray
        The final states, (N,) for scalar systems else (N, dim) (the last finite state of a
        trajectory that stopped early).
    status : numpy.ndarray
        int8 codes of :class:`Status`, one per trajectory.
    t_event : numpy.ndarray
        Divergence / convergence / non-finite time per trajectory, NaN if none.
    nsteps : numpy.ndarray
        The accepted steps each trajectory took (int64).
    method : str
        The tableau (``'tsit5'``, ``'dopri5'``, ``'rk4'``; ``'tsit5@cuda'`` etc. for the torch backend).
    t : numpy.ndarray or None, optional
        The requested output grid (``t_eval``), None if not asked.
    ys : numpy.ndarray or None, optional
        The states on ``t``: (len(t), N) or (len(t), N, dim); None if not asked.
    state : tuple of str, optional
        The state variables' names (the columns of ``final``), e.g. ``('p',)`` or ``('p', 's')``.
    extra : dict, optional
        Other facts of the run (the number of modes ``h`` of a coupled system).
    params : dict, optional
        The shared parameters (``to_dict()`` of the dataclass), when one set was given; else empty.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from dynamics import BatchResult, CosineParams, Status, integrate
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> res = integrate("cosine-simsiam", params, [0.5, 2.0], 50.0, t_eval=[0.0, 10.0, 50.0])
    >>> isinstance(res, BatchResult), res.final.shape, res.t.tolist(), res.ys.shape, res.state
    (True, (2,), [0.0, 10.0, 50.0], (3, 2), ('p',))
    >>> [round(float(p), 4) for p in res.ys[:, 0]]
    [0.5, 0.9413, 0.9554]
    >>> [Status(int(c)).name for c in res.status], res.message, res.params["rho"]
    (['SUCCESS', 'SUCCESS'], '2 trajectories (tsit5): 2 success', 0.01)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res.to_npz(os.path.join(tmp, "run.npz"))
    ...     with np.load(os.path.join(tmp, "run.npz")) as z:
    ...         keys = sorted(z.files)
    >>> keys
    ['final', 'method', 'nsteps', 'state', 'status', 't', 't_event', 'ys']
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
