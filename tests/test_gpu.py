"""The torch backend: same code path on the CPU here (CI has no GPU); CUDA tests skip cleanly."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dynamics.gpu import integrate_torch  # noqa: E402
from dynamics.integrate import _theta_matrix, integrate  # noqa: E402
from dynamics.params import CosineParams  # noqa: E402
from symbolic.codegen import load_kernels  # noqa: E402


def _torch_run(method, dt, y0, t_end, device="cpu", **kw):
    k = load_kernels("cosine-simsiam", "reduced")
    y = np.asarray(y0, float).reshape(-1, 1)
    TH, per = _theta_matrix(CosineParams(), k, len(y))
    return integrate_torch(k, y, TH, per, 0.0, t_end, method=method, dt=dt, rtol=1e-8, atol=1e-10,
                           tout=np.array([]), max_steps=100_000, bound=1e8, ctol=0.0, scalar=True, device=device, **kw)


def test_torch_rk4_equals_numba_rk4():
    p0 = np.linspace(-2, 1.5, 33)
    a = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="rk4", dt=0.01, device="torch-cpu")
    b = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="rk4", dt=0.01)
    assert a.method == "rk4@cpu"                                          # the torch backend ran
    np.testing.assert_array_equal(a.status, b.status)
    ok = b.status == 0
    np.testing.assert_allclose(a.final[ok], b.final[ok], rtol=1e-12)      # same formulas, other rounding
    np.testing.assert_allclose(a.t_event[~ok], b.t_event[~ok])


def test_torch_adaptive_matches_cpu():
    p0 = np.linspace(-2, 1.5, 17)
    a = _torch_run("tsit5", None, p0, 20.0)
    b = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="tsit5", rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(a.status, b.status)
    ok = b.status == 0
    np.testing.assert_allclose(a.final[ok], b.final[ok], rtol=1e-6)
    assert np.all(np.isfinite(a.t_event[~ok]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():  # pragma: no cover - GPU machines only
    p0 = np.linspace(-2, 1.5, 1 << 16)
    a = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="rk4", dt=0.01, device="cuda")
    b = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="rk4", dt=0.01)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(a.final[b.status == 0], b.final[b.status == 0], rtol=1e-12)


def test_torch_events_match_cpu():
    # convergence (|rhs| < tol, stops with status 0 and a time), max-steps (status 2) and the
    # output grid of the fixed-step chunks, against the numba backend on the same inputs
    p0 = np.array([-2.0, 0.3, 0.9, 1.4])
    k = load_kernels("cosine-simsiam", "reduced")
    TH, per = _theta_matrix(CosineParams(), k, 4)
    y = p0.reshape(-1, 1)
    tout = np.array([0.0, 0.35, 1.0, 7.0])                         # 0.35 is not a chunk boundary
    a = integrate_torch(k, y, TH, per, 0.0, 7.0, method="rk4", dt=0.01, rtol=1e-8, atol=1e-10, tout=tout,
                        max_steps=10**6, bound=1e8, ctol=0.0, scalar=True, device="cpu")
    b = integrate("cosine-simsiam", CosineParams(), p0, 7.0, method="rk4", dt=0.01, t_eval=tout)
    np.testing.assert_allclose(a.ys, b.ys, rtol=1e-12)            # NaN after divergence on both
    for ms in (10**6, 7):
        a = integrate_torch(k, y, TH, per, 0.0, 2000.0, method="tsit5", dt=None, rtol=1e-8, atol=1e-10,
                            tout=np.array([]), max_steps=ms, bound=1e8, ctol=1e-6, scalar=True, device="cpu")
        b = integrate("cosine-simsiam", CosineParams(), p0, 2000.0, rtol=1e-8, atol=1e-10, max_steps=ms,
                      converge_tol=1e-6)
        np.testing.assert_array_equal(a.status, b.status)
        conv = np.isfinite(b.t_event) & (b.status == 0)
        # both stop at the first accepted step with |rhs| < 1e-6; their steps differ (another
        # initial step), so the stopping times agree to a step and the states to about tol / |slope|
        np.testing.assert_allclose(a.final[conv], b.final[conv], atol=1e-4)
        assert np.all(np.isfinite(a.t_event[conv]))
