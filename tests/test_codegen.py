"""Generated numba kernels against the theory notes' formulas (numpy), finite differences, roots."""
import numpy as np
import pytest

from oracles import cosine_eq5, cosine_eq7, l2_reduced
from symbolic.codegen import load_kernels, kernel_source
from symbolic.errors import ParameterError


def test_cosine_reduced_kernel_values():
    k = load_kernels("cosine-simsiam", "reduced")
    assert k.STATE == ("p",) and k.PARAMS == ("rho", "sigma2", "N_Phi", "N_Psi", "T")
    rng = np.random.default_rng(0)
    for _ in range(50):
        args = (rng.normal(), rng.uniform(0, 0.1), rng.uniform(0, 2), rng.uniform(0.2, 3), rng.uniform(0.2, 3), rng.normal())
        assert np.isclose(k.rhs_p(*args), cosine_eq7(*args), rtol=1e-12, atol=1e-15)
        h = 1e-6
        fd = (k.rhs_p(args[0] + h, *args[1:]) - k.rhs_p(args[0] - h, *args[1:])) / (2 * h)
        assert np.isclose(k.jac_p_p(*args), fd, rtol=1e-6, atol=1e-8)   # central difference O(h^2)


def test_cosine_eigen_kernel_array_api():
    k = load_kernels("cosine-simsiam", "eigen")
    y, theta, out = np.array([0.3, 0.7]), np.array([0.01, 0.5, 2.0, 1.5, 0.5]), np.zeros(2)
    k.rhs(y, theta, out)
    np.testing.assert_allclose(out, cosine_eq5(0.3, 0.7, *theta), rtol=1e-13)
    J = np.zeros((2, 2))
    k.jac(y, theta, J)
    eps = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = eps
        a, b = np.zeros(2), np.zeros(2)
        k.rhs(y + e, theta, a)
        k.rhs(y - e, theta, b)
        np.testing.assert_allclose(J[:, j], (a - b) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_eqpoly_roots_worked_example():
    k = load_kernels("cosine-simsiam", "reduced")
    r = np.roots(k.eqpoly(np.array([0.01, 0.5, 2.0, 1.5, 0.5])))
    real = np.sort(r[np.abs(r.imag) < 1e-9].real)
    np.testing.assert_allclose(real, [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315], atol=1e-10)


def test_l2_kernel_and_poly():
    k = load_kernels("l2-byol", "reduced")
    assert k.PARAMS == ("eta", "sigma2", "tau", "alpha_p")
    assert np.isclose(k.rhs_p(0.3, 0.05, 0.5, 1.0, 2.0), l2_reduced(0.3, 0.05, 0.5), rtol=1e-14)
    r = np.sort(np.roots(k.eqpoly(np.array([0.05, 0.5, 1.0, 1.0]))).real)
    np.testing.assert_allclose(r, [0.0, 0.0544466578, 0.6122200088], atol=1e-9)


def test_two_layer_kernel():
    k = load_kernels("two-layer", "eigen")
    assert k.rhs_sigma_1(1.3, 0.7, 0.5) == pytest.approx(1.3 * 0.49 * 0.5, rel=1e-15)
    assert k.rhs_sigma_2(1.3, 0.7, 0.5) == pytest.approx(0.7 * 1.69 * 0.5, rel=1e-15)


def test_nan_propagates_not_hidden():
    # fastmath flags exclude 'nnan': NaN in, NaN out, so integrators can detect it
    k = load_kernels("cosine-simsiam", "reduced")
    assert np.isnan(k.rhs_p(np.nan, 0.01, 0.5, 2.0, 1.5, 0.5))


def test_generated_source_is_readable_and_matrix_rejected():
    src = kernel_source("cosine-simsiam", "reduced")
    assert "def rhs_p(p, rho, sigma2, N_Phi, N_Psi, T):" in src
    with pytest.raises(ValueError, match="matrix"):
        kernel_source("cosine-simsiam", "matrix")
    with pytest.raises(ParameterError, match="model"):
        load_kernels("no-such-model", "reduced")
