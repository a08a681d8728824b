"""Independent reference formulas, typed from the theory notes (shared/theory/*.md), numpy only.

Tests compare the derived/generated code with these; they never come from the code under test.
"""
import contextlib

import numpy as np
import pytest


def cosine_eq7(p, rho, sigma2, n_phi, n_psi, T):
    """Theory notes sec. 4: pdot = p^2 (N_Psi^2 - T p - 2 p^4) / ((1+s2) N_Phi N_Psi^3) - rho p."""
    return p**2 * (n_psi**2 - T * p - 2 * p**4) / ((1 + sigma2) * n_phi * n_psi**3) - rho * p


def cosine_eq5(p, s, rho, sigma2, n_phi, n_psi, T):
    """Theory notes sec. 3: (pdot, sdot) of one mode."""
    g = s / ((1 + sigma2) * n_phi * n_psi) * (1 - p * (T + 2 * p * s) / n_psi**2)
    return g - rho * p, 2 * p * g - 2 * rho * s


def cosine_delta_notes(p, s, sigma2):
    """Theory notes sec. 6 caveat 3: the printed delta-method drive (G Phi^T)_jj, every mode."""
    a = 1 + sigma2
    nphi2, npsi2, T = s.sum(), (p * p * s).sum(), (p * s).sum()
    nphi, npsi = np.sqrt(nphi2), np.sqrt(npsi2)
    S = lambda m: (p**m * s * s).sum()  # noqa: E731
    u1 = 0.75 * S(4) / npsi2**2 + 0.75 * S(0) / nphi2**2 + 0.5 * S(2) / (a * a * npsi2 * nphi2)
    u2 = 3.75 * S(4) / npsi2**2 + 0.75 * S(0) / nphi2**2 + 1.5 * S(2) / (a * a * npsi2 * nphi2)
    first = s * (1 - p * p * s / npsi2 - s / nphi2 + u1)
    second = p * s / npsi2 * (T + 2 * p * s - 3 * (S(3) + p * p * s * T) / npsi2
                              - (S(1) + s * T / a**2) / nphi2 + T * u2)
    return (first - second) / (a * nphi * npsi)


def l2_reduced(p, eta, sigma2, tau=1.0):
    """Tian eq. 16 / notes: pdot = p^2 (tau - (1+s2) p) - eta p."""
    return p**2 * (tau - (1 + sigma2) * p) - eta * p


def l2_roots(eta, sigma2, tau=1.0):
    a = 1 + sigma2
    d = np.sqrt(tau**2 - 4 * eta * a)
    return (tau - d) / (2 * a), (tau + d) / (2 * a)


def two_layer_closed_form(t, a0, b0, lam):
    """Notes: sigma_1^2 = C a0^2 / (a0^2 - b0^2 exp(2 lam C t)), sigma_2^2 = sigma_1^2 - C."""
    C = a0**2 - b0**2
    s1sq = C * a0**2 / (a0**2 - b0**2 * np.exp(2 * lam * C * t))
    return np.sqrt(s1sq), np.sqrt(s1sq - C)


def integrate_sweep_config(chunk_size: int, n_p0: int, method: str | None = None) -> str:
    """The sweep config the sweep tests integrate: eq. 7 at the worked example's norms over a
    20-point log grid of rho, ``n_p0`` initial values in [-2, 1.5], t_end 400, rtol 1e-10."""
    method_line = f'method = "{method}"\n' if method else ""
    return f"""model = "cosine-simsiam"
task = "integrate"
chunk_size = {chunk_size}

[params]
sigma2 = 0.5
n_phi = 2.0
n_psi = 1.5
trace = 0.5

[grid]
rho = {{lo = 0.001, hi = 0.2, n = 20, log = true}}

[initial]
p0 = {{lo = -2.0, hi = 1.5, n = {n_p0}}}

[integrate]
t_end = 400.0
{method_line}rtol = 1e-10
"""


# --- shared scaffolding of the sweep tests (not oracles: file and process helpers) -------------
def npz_arrays(path) -> dict:
    """Every array of an NPZ file, loaded (no pickles)."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def assert_bitwise_equal(a: dict, b: dict) -> None:
    """Two dicts of arrays with the same keys, dtypes and bytes."""
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (the probe socket is closed again)."""
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(cond, timeout: float, what: str) -> None:
    """Poll ``cond()`` every 50 ms until it is true, or fail after ``timeout`` seconds."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def registered_user_models(models: dict, cache_dir):
    """Register ``models`` (name -> (state symbols, rhs expressions, parameter defaults)) as user
    models with their kernels in ``cache_dir`` for the duration of the block, then remove them."""
    from symbolic import register_model, registry, user_models

    mp = pytest.MonkeyPatch()
    mp.setenv("SSLDYN_CACHE_DIR", str(cache_dir))
    try:
        for name, (state, rhs, params) in models.items():
            register_model(name, state, rhs, params)
        yield
    finally:
        for name in models:
            registry._REGISTRY.pop(name, None)
            user_models._USER_ARGS.pop(name, None)
        mp.undo()
