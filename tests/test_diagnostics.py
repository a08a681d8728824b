"""Collapse diagnostics against hand-computed values."""
import numpy as np
import pytest

from sims.diagnostics import (collapse_diagnostics, eigenvalue_ratio, effective_rank, explained_variance, rankme,
                              stable_rank, std_l2_normalized)


def test_known_singular_values():
    # Z = diag(3, 4, 0) padded: singular values (4, 3, 0)
    Z = np.zeros((5, 3))
    Z[0, 0], Z[1, 1] = 3.0, 4.0
    assert stable_rank(Z) == pytest.approx((9 + 16) / 16)
    q = np.array([4, 3]) / 7
    assert effective_rank(Z) == pytest.approx(np.exp(-(q * np.log(q)).sum()))
    q = np.array([4, 3, 0]) / 7 + 1e-7
    assert rankme(Z) == pytest.approx(np.exp(-(q * np.log(q)).sum()))


def test_std_l2_normalized_by_hand():
    Z = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0]])
    Zn = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float)      # rows normalised
    want = np.mean(np.std(Zn, axis=0, ddof=1))
    assert std_l2_normalized(Z) == pytest.approx(want)
    assert std_l2_normalized(np.ones((10, 4))) == 0.0                  # complete collapse


def test_covariance_quantities():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200_000, 3)) * np.array([3.0, 2.0, 1.0])     # covariance diag(9, 4, 1)
    assert eigenvalue_ratio(Z) == pytest.approx(9.0, rel=0.02)
    np.testing.assert_allclose(explained_variance(Z), [9 / 14, 13 / 14, 1.0], rtol=0.01)
    d = collapse_diagnostics(Z)
    assert d["finite_outputs"] and len(d["cov_spectrum"]) == 3
    assert collapse_diagnostics(np.array([[np.nan, 1.0]]))["finite_outputs"] is False


def test_torch_tensors_accepted():
    torch = pytest.importorskip("torch")
    Z = np.random.default_rng(1).normal(size=(50, 4))
    assert stable_rank(torch.tensor(Z)) == pytest.approx(stable_rank(Z))


@pytest.mark.parametrize("Z", [np.ones((1, 3)), np.ones(3), np.ones((2, 0)), np.ones((2, 2, 2))])
def test_collapse_diagnostics_refuses_a_batch_without_a_covariance(Z):
    # one row gave numpy's LinAlgError from the NaN covariance, a vector an AxisError
    from sims.diagnostics import collapse_diagnostics
    from symbolic.errors import ParameterError

    with pytest.raises(ParameterError, match=r"Z must be a \(batch, dim\) array"):
        collapse_diagnostics(Z)


def test_overlay_takes_a_scalar_top_eigenvalue():
    # a scalar p_top raised TypeError (a 0-d array iterated); it is one eigenvalue
    from sims.overlay import overlay

    a = overlay("l2", 0.05, 0.5, 1.0, 1.0, 0.0, 0.6)
    b = overlay("l2", 0.05, 0.5, 1.0, 1.0, 0.0, [0.6])
    assert a == b and len(a["fates_top"]) == 1
