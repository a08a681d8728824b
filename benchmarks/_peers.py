r"""Peers measured in the same run as the project's integrators, on Bao eq. 7 (one scalar ODE).

:math:`\dot p=a_6p^6+a_3p^3+a_2p^2+a_1p` with :math:`a_6=-2/A`, :math:`a_3=-T/A`,
:math:`a_2=N_\Psi^2/A`, :math:`a_1=-\rho`, :math:`A=(1+\sigma^2)N_\Phi N_\Psi^3` (the
polynomial form of eq. 7). Each peer returns a dict, or a string saying why it was skipped (not
installed: the optional ``bench`` extra, ``pip install -e .[bench]``).

* ``rk4_hand_blocked``: a 25-line numba ``prange`` kernel, blocks of 1024 trajectories kept in a
  local buffer, Horner evaluation (the issue's hand-written baseline);
* ``rk4_jax``: ``jax.lax.fori_loop`` over RK4 steps of the whole batch, jitted (f64);
* ``adaptive_numbalsoda``: numbalsoda's DOP853 per trajectory from a numba loop;
* ``adaptive_diffrax``: diffrax Tsit5 with a PID controller, ``vmap`` over trajectories.
heyoka and torchode: recorded as not measured (no harness written yet), when installed.
"""
from __future__ import annotations

import importlib.util
import time

import numpy as np
from numba import njit, prange


def coefficients(P) -> tuple:
    A = (1 + P.sigma2) * P.n_phi * P.n_psi**3
    return -2.0 / A, -P.trace / A, P.n_psi**2 / A, -P.rho


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@njit(parallel=True, fastmath=True, cache=True)
def rk4_hand_blocked(p, dt, nsteps, a6, a3, a2, a1):
    BS = 1024
    N = p.size
    for b in prange((N + BS - 1) // BS):
        lo = b * BS
        L = min(N, lo + BS) - lo
        y = p[lo:lo + L].copy()
        for _ in range(nsteps):
            for i in range(L):
                x = y[i]
                k1 = x * (a1 + x * (a2 + x * (a3 + x * x * x * a6)))
                x2 = x + 0.5 * dt * k1
                k2 = x2 * (a1 + x2 * (a2 + x2 * (a3 + x2 * x2 * x2 * a6)))
                x3 = x + 0.5 * dt * k2
                k3 = x3 * (a1 + x3 * (a2 + x3 * (a3 + x3 * x3 * x3 * a6)))
                x4 = x + dt * k3
                k4 = x4 * (a1 + x4 * (a2 + x4 * (a3 + x4 * x4 * x4 * a6)))
                y[i] = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        p[lo:lo + L] = y
    return p


def rk4_jax(p0, dt, nsteps, coef):
    """(seconds of one run after compilation, final state) or a skip string."""
    if not installed("jax"):
        return "jax not installed"
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    a6, a3, a2, a1 = coef

    def f(x):
        return x * (a1 + x * (a2 + x * (a3 + x * x * x * a6)))

    @jax.jit
    def run(y):
        def step(_, x):
            k1 = f(x)
            k2 = f(x + 0.5 * dt * k1)
            k3 = f(x + 0.5 * dt * k2)
            k4 = f(x + dt * k3)
            return x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return jax.lax.fori_loop(0, nsteps, step, y)

    y = jnp.asarray(p0)
    run(y).block_until_ready()
    t0 = time.perf_counter()
    out = run(y).block_until_ready()
    return time.perf_counter() - t0, np.asarray(out)


def adaptive_numbalsoda(p0, T, rtol, atol, coef):
    """(seconds, finals) of DOP853 per trajectory, or a skip string."""
    if not installed("numbalsoda"):
        return "numbalsoda not installed"
    import numba as nb
    from numbalsoda import dop853

    a6, a3, a2, a1 = coef

    @nb.cfunc(nb.types.void(nb.types.double, nb.types.CPointer(nb.types.double),
                            nb.types.CPointer(nb.types.double), nb.types.CPointer(nb.types.double)))
    def rhs(t, u, du, p):
        x = u[0]
        du[0] = x * (a1 + x * (a2 + x * (a3 + x * x * x * a6)))

    ptr = rhs.address

    @njit
    def loop(p0, out):
        te = np.array([0.0, T])
        for i in range(p0.size):
            u, ok = dop853(ptr, np.array([p0[i]]), te, rtol=rtol, atol=atol)
            out[i] = u[-1, 0]

    out = np.empty(p0.size)
    loop(p0[:2], out[:2])
    t0 = time.perf_counter()
    loop(p0, out)
    return time.perf_counter() - t0, out


def adaptive_diffrax(p0, T, rtol, atol, coef):
    """(seconds, finals) of diffrax Tsit5 + PID controller, vmap over trajectories, or a skip string."""
    if not (installed("diffrax") and installed("jax")):
        return "diffrax/jax not installed"
    import diffrax
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    a6, a3, a2, a1 = coef
    term = diffrax.ODETerm(lambda t, x, args: x * (a1 + x * (a2 + x * (a3 + x * x * x * a6))))

    @jax.jit
    def run(y0):
        def one(y):
            return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, T, None, y,
                                       stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                                       max_steps=100_000).ys[-1]
        return jax.vmap(one)(y0)

    y = jnp.asarray(p0)
    run(y[:2]).block_until_ready()
    run(y).block_until_ready()                 # compile for this batch size
    t0 = time.perf_counter()
    out = run(y).block_until_ready()
    return time.perf_counter() - t0, np.asarray(out)


def unmeasured() -> dict:
    """Peers installed for which no harness is written yet (said, not hidden)."""
    return {name: "installed, not measured (no harness yet)" if installed(name) else f"{name} not installed"
            for name in ("heyoka", "torchode")}
