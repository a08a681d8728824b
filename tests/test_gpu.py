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
    a = _torch_run("rk4", 0.01, p0, 20.0)
    b = integrate("cosine-simsiam", CosineParams(), p0, 20.0, method="rk4", dt=0.01)
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
