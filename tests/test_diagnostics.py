"""Collapse diagnostics against values computed by hand for a 3x2 matrix with known SVD."""
import math

import numpy as np
import pytest

from sims import diagnostics as dg
from symbolic.errors import ParameterError

# z has singular values (4, 3); rows normalise to e1, e2 and a zero row.
Z = np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
# hand: centred covariance [[3, -2], [-2, 16/3]] -> eigenvalues (25/3 +- sqrt(625/9 - 48)) / 2
EV = ((25 / 3 + math.sqrt(625 / 9 - 48)) / 2, (25 / 3 - math.sqrt(625 / 9 - 48)) / 2)


def test_hand_values():
    # exact arithmetic up to rounding: 1e-12 relative
    assert dg.stable_rank(Z) == pytest.approx(25 / 16, rel=1e-12)
    p = np.array([4 / 7, 3 / 7])
    assert dg.effective_rank(Z) == pytest.approx(math.exp(-(p * np.log(p)).sum()), rel=1e-12)
    q = p + 1e-7
    assert dg.rankme(Z) == pytest.approx(math.exp(-(q * np.log(q)).sum()), rel=1e-12)
    # each normalised column is (1, 0, 0) up to order: unbiased std sqrt(1/3)
    assert dg.normalized_std(Z) == pytest.approx(math.sqrt(1 / 3), rel=1e-12)
    np.testing.assert_allclose(dg.covariance_eigenvalues(Z), EV, rtol=1e-12)
    assert dg.eigenvalue_ratio(Z) == pytest.approx(EV[1] / EV[0], rel=1e-12)
    np.testing.assert_allclose(dg.explained_variance(Z), [EV[0] / sum(EV), 1.0], rtol=1e-12)


def test_limits():
    # complete collapse to one direction: ranks 1, ratio 0, RankMe = exp of the eps-entropy
    z = np.outer(np.arange(1.0, 6.0), [1.0, 2.0, 0.0])
    assert dg.stable_rank(z) == pytest.approx(1.0, rel=1e-12)
    assert dg.effective_rank(z) == pytest.approx(1.0, abs=1e-6)  # tiny SVD round-off singular values
    assert dg.eigenvalue_ratio(z) == pytest.approx(0.0, abs=1e-12)
    assert dg.normalized_std(z) == pytest.approx(0.0, abs=1e-12)  # every row normalises to the same vector
    # isotropic: orthonormal columns scaled -> all ranks = d
    z = np.vstack([np.eye(4), -np.eye(4)])
    assert dg.rankme(z) == pytest.approx(4.0, rel=1e-6)           # eps shifts it by O(1e-7)
    assert dg.stable_rank(z) == pytest.approx(4.0, rel=1e-12)


def test_torch_input_and_bad_shape():
    torch = pytest.importorskip("torch")
    assert dg.stable_rank(torch.tensor(Z, dtype=torch.float32)) == pytest.approx(25 / 16, rel=1e-6)  # float32 input
    # solo-learn's formula, computed in torch
    zt = torch.randn(64, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    want = torch.nn.functional.normalize(zt, dim=-1).std(dim=0).mean().item()
    assert dg.normalized_std(zt) == pytest.approx(want, rel=1e-12)
    with pytest.raises(ParameterError, match="z must"):
        dg.stable_rank(np.ones(3))
