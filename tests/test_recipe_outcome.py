"""The recipe-outcome prediction (issue #21): the batched mean-field map equals the single-run map,
the vectorised fixed-norm theory equals the project's kernels and closed forms, the outcome rule,
predict / outcome-map through the API and the CLI, and their input checks."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dynamics.mean_field_batch import eigen_map_batch
from dynamics.outcome_map import outcome_map
from dynamics.recipe_outcome import (OUTCOMES, LinearRecipe, classify_outcome, critical_decay_at, predict_outcome,
                                     stable_eigenvalue, surviving_count)
from dynamics.sgd_mean_field import Recipe, epoch_lrs, sgd_mean_field
from symbolic.errors import ParameterError
from symbolic.linear_init import draw_initial_weights, eigen_state, weight_norms

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sims.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("loss,rhos", [("cosine", (0.0, 0.03, 0.3)), ("l2", (0.05, 0.2, 0.4))])
def test_batch_rows_equal_the_single_run_map(loss, rhos):
    """Every row of the batched map (different rho, lr, sigma2, batch and epochs per row, shorter rows
    padded) ends where sgd_mean_field run alone on that recipe ends."""
    W0, Phi0 = draw_initial_weights(12, 10, seed=3)
    p0, q0 = eigen_state(W0, Phi0)
    recipes = [Recipe(lrs=epoch_lrs(lr, ep, 4), momentum=m, rho=rho, batch=b, sigma2=s2, d=12, loss=loss)
               for rho, (lr, ep, m, b, s2) in zip(rhos, [(0.1, 30, 0.9, 64, 0.5), (0.05, 20, 0.5, 256, 1.0),
                                                         (0.2, 25, 0.0, 16, 0.25)])]
    K = max(len(r.lrs) for r in recipes)
    lrs = np.zeros((len(recipes), K))
    for i, r in enumerate(recipes):
        lrs[i, :len(r.lrs)] = r.lrs
    res = eigen_map_batch(p0, q0, lrs, [r.momentum for r in recipes], [r.rho for r in recipes],
                          [r.batch for r in recipes], [r.sigma2 for r in recipes], 12, loss, 4)
    for i, r in enumerate(recipes):
        one = sgd_mean_field(W0, Phi0, r, [len(r.lrs)])
        if one.status == 0:
            np.testing.assert_allclose(res.p[i], one.p[-1], rtol=1e-10, atol=1e-14)
            assert res.n_phi[i] == pytest.approx(one.n_phi[-1], rel=1e-10)
            assert res.n_psi[i] == pytest.approx(one.n_psi[-1], rel=1e-10, abs=1e-300)


def test_critical_decay_and_stable_eigenvalue_against_the_kernels():
    """Eq. 7's critical decay and p4 at random norms equal dynamics' (generated kernels, Sturm roots)."""
    from dynamics import CosineParams, critical_value, find_equilibria

    rng = np.random.default_rng(0)
    for _ in range(40):
        n_phi, n_psi = 10 ** rng.uniform(-1.5, 1.5, 2)
        trace = rng.uniform(-1, 1) * n_phi * n_psi
        s2 = rng.uniform(0, 2)
        rc = critical_value(CosineParams(rho=0.0, sigma2=s2, n_phi=n_phi, n_psi=n_psi, trace=trace))
        assert float(critical_decay_at(n_phi, n_psi, trace, s2)) == pytest.approx(rc, rel=1e-9)
        rho = rc * rng.uniform(0.05, 0.95)
        eq = find_equilibria(CosineParams(rho=rho, sigma2=s2, n_phi=n_phi, n_psi=n_psi, trace=trace))
        p4 = max(x for x, st in zip(eq.p, eq.stability) if x > 0 and st == "stable")
        assert float(stable_eigenvalue("cosine", rho, s2, n_phi, n_psi, trace)) == pytest.approx(p4, rel=1e-9)
        assert math.isnan(float(stable_eigenvalue("cosine", rc * 1.01, s2, n_phi, n_psi, trace)))


def test_l2_stable_eigenvalue_closed_form():
    eta, s2 = np.array([0.0, 0.1, 0.16, 0.2]), 0.5
    want = [(1 + math.sqrt(1 - 4 * 1.5 * e)) / 3 if 1 - 6 * e >= 0 else math.nan for e in eta]
    np.testing.assert_allclose(stable_eigenvalue("l2", eta, s2), want, equal_nan=True)


def test_outcome_rule():
    assert [OUTCOMES[c] for c in classify_outcome([False, False, False, True], [0.5, 0.24, 1.1, 0.5],
                                                  [0.5, 0.5, 0.5, 0.5])] == ["survive", "unsettled", "unsettled",
                                                                             "collapse"]
    assert surviving_count([[1.0, 0.6, 0.2, 0.1, -3.0]], [0.8], [False]).tolist() == [3]
    assert surviving_count([[1.0, 0.6]], [0.8], [True]).tolist() == [0]
    assert surviving_count([[1.0, 0.6]], [math.nan], [False]).tolist() == [0]


def test_l2_prediction_follows_eta_c_and_the_lift_of_cosine():
    """L2 collapses above eta_c = 1/(4(1+sigma2)) and survives below; a cosine recipe started in the
    fixed-norm Collapse regime (rho = 3 rho_c(init)) is lifted into Acute and survives."""
    base = dict(d=16, h=16, epochs=60, steps_per_epoch=5, sigma2=0.5, lr=0.1)
    eta_c = 1 / 6
    hi = predict_outcome(LinearRecipe(loss="l2", rho=1.5 * eta_c, **base))
    lo = predict_outcome(LinearRecipe(loss="l2", rho=0.5 * eta_c, **base))
    assert (hi.outcome, lo.outcome) == ("collapse", "survive")
    assert hi.collapse_step % 5 == 0 and hi.surviving_modes == 0 and lo.surviving_modes > 0
    assert hi.rho_c_init == pytest.approx(eta_c) and hi.classic_regime == "Collapse"
    W0, Phi0 = draw_initial_weights(16, 16, 0)
    rc = float(critical_decay_at(*weight_norms(W0, Phi0), 0.5))
    cos = predict_outcome(LinearRecipe(loss="cosine", rho=3 * rc, **base), W0, Phi0, init="test")
    assert cos.rho_c_init == pytest.approx(rc) and cos.classic_regime == "Collapse"
    assert cos.outcome == "survive" and cos.lift_step is not None and cos.lift_step > 0
    assert cos.init == "test" and json.dumps(cos.to_json(), allow_nan=False)


def test_outcome_map_equals_single_predictions():
    base = LinearRecipe(loss="l2", d=8, h=8, epochs=30, steps_per_epoch=5, sigma2=0.5)
    xs, ys = [0.05, 0.15, 0.2], [0.05, 0.2]
    m = outcome_map(base, "rho", xs, "lr", ys)
    for i, lr in enumerate(ys):
        for j, rho in enumerate(xs):
            one = predict_outcome(LinearRecipe(**{**m.recipe, "rho": rho, "lr": lr}))
            assert OUTCOMES[m.outcome[i, j]] == one.outcome
            assert m.surviving_modes[i, j] == one.surviving_modes
            assert m.collapse_step[i, j] == (-1 if one.collapse_step is None else one.collapse_step)
    # the epochs and h axes change the run length and the width
    m2 = outcome_map(base, "epochs", [10, 30], "h", [4, 8])
    assert m2.outcome.shape == (2, 2)
    assert m2.surviving_modes[0].max() <= 4


@pytest.mark.parametrize("kw,words", [({"lr": 0.0}, "lr must be in (0, inf)"), ({"momentum": 1.0}, "momentum"),
                                      ({"batch": 0}, "batch must be an integer in [1, inf)"),
                                      ({"epochs": 0}, "epochs"), ({"d": 1}, "d must be"), ({"h": 1}, "h must be"),
                                      ({"loss": "x"}, "loss"), ({"rho": "0.1"}, "rho must be a number"),
                                      ({"sigma2": float("nan")}, "sigma2")])
def test_recipe_is_validated(kw, words):
    with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        LinearRecipe(**kw)


def test_outcome_map_refuses_bad_axes_and_oversized_grids():
    base = LinearRecipe(d=8, h=8, epochs=2, steps_per_epoch=2)
    with pytest.raises(ParameterError, match="axis"):
        outcome_map(base, "foo", [1], "lr", [0.1])
    with pytest.raises(ParameterError, match="must differ"):
        outcome_map(base, "lr", [1], "lr", [0.1])
    with pytest.raises(ParameterError, match="integers"):
        outcome_map(base, "batch", [1.5], "lr", [0.1])
    with pytest.raises(ParameterError, match="over the limit"):
        outcome_map(LinearRecipe(h=4096, d=8), "rho", np.linspace(0, 1, 100), "lr", np.linspace(0.1, 1, 100))
    with pytest.raises(ParameterError, match="lr must be in"):
        outcome_map(base, "rho", [0.1], "lr", [0.1, -1.0])


@pytest.mark.slow
def test_predict_cli_json_and_text(tmp_path):
    r = _cli("predict", "linear", "--loss", "l2", "--d", 16, "--h", 16, "--epochs", 40, "--steps-per-epoch", 5,
             "--rho", 0.3, "--json", "--out", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("outcome", "collapse_step", "lift_step", "surviving_modes", "p_top8", "n_phi", "n_psi",
                "rho_c_init", "seconds", "init"):
        assert key in out, key
    assert out["outcome"] == "collapse" and json.loads((tmp_path / "p" / "prediction.json").read_text()) == out
    r = _cli("predict", "linear", "--d", 16, "--h", 16, "--epochs", 20, "--steps-per-epoch", 5, "--rho", 0.05)
    assert r.returncode == 0 and "outcome:" in r.stdout and "classic fixed-norm map" in r.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args,words", [
    (("predict", "linear", "--lr", "0"), "lr must be in (0, inf)"),
    (("predict", "linear", "--lr", "-1"), "lr must be in (0, inf)"),
    (("predict", "linear", "--momentum", "1"), "momentum must be in [0, 1)"),
    (("predict", "linear", "--batch", "0"), "batch must be an integer in [1, inf)"),
    (("predict", "linear", "--epochs", "0"), "epochs must be an integer in [1, inf)"),
    (("predict", "linear", "--d", "1"), "d must be an integer in [2, inf)"),
    (("predict", "linear", "--h", "1"), "h must be an integer in [2, inf)"),
    (("predict", "resnet18"), "mode must be linear"),
    (("outcome-map", "linear", "--x", "foo:0:1:3", "--y", "lr:0.1:1:3", "--out", "x.npz"), "--x NAME must be one of"),
    (("outcome-map", "linear", "--x", "rho:0:1:3000", "--y", "lr:0.1:1:3000", "--out", "x.npz"), "over the limit"),
    (("outcome-map", "resnet18", "--x", "rho:0:1:3", "--y", "lr:0.1:1:3", "--out", "x.npz"), "mode must be linear"),
])
def test_bad_input_is_one_line_exit_2(args, words, tmp_path):
    r = subprocess.run([sys.executable, "-m", "sims.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.slow
def test_outcome_map_cli_writes_map_and_plot(tmp_path):
    r = _cli("outcome-map", "linear", "--loss", "l2", "--d", 8, "--h", 8, "--epochs", 60, "--steps-per-epoch", 5,
             "--x", "rho:0.04:0.5:2", "--y", "sigma2:0:1:3", "--out", tmp_path / "m.npz", "--plot", tmp_path / "m.png")
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "m.npz") as z:
        out, x, y, classic = z["outcome"], z["x"], z["y"], z["classic_outcome"]
    eta_c = 1 / (4 * (1 + y))
    assert ((out == 0) == (x[None, :] > eta_c[:, None])).all()      # L2: the boundary is eta_c (no lift)
    assert ((classic == 0) == (x[None, :] > eta_c[:, None])).all()
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG" and not (tmp_path / "m.pdf").exists()


def test_l2_stability_ratio_against_a_numerical_jacobian():
    """The per-mode curvature of the stability ratio is the spectral radius of the finite-difference
    Jacobian of the L2 eigen gradient plus decay; a recipe far past the heavy-ball limit is unsettled."""
    from dynamics.mean_field_batch import _l2_curvature
    from dynamics.sgd_mean_field import eigen_gradient

    rng = np.random.default_rng(1)
    p, q, a, rho = rng.normal(size=6), rng.uniform(0.3, 2.0, 6), 1.5, 0.05
    eps = 1e-6
    for j in range(6):
        J = np.zeros((2, 2))
        for c in range(2):
            x = [p.copy(), q.copy()]
            x[c][j] += eps
            gp, gq = eigen_gradient(x[0], x[1], a - 1.0, "l2")
            x[c][j] -= 2 * eps
            hp, hq = eigen_gradient(x[0], x[1], a - 1.0, "l2")
            J[:, c] = [(gp[j] - hp[j]) / (2 * eps), (gq[j] - hq[j]) / (2 * eps)]
        J += rho * np.eye(2)
        want = np.max(np.abs(np.linalg.eigvals(J)))
        got = _l2_curvature(p[None, :], q[None, :], a, rho)[0, j]
        assert got == pytest.approx(want, rel=1e-6)
    r = predict_outcome(LinearRecipe(loss="l2", d=16, h=16, rho=0.05, lr=2.0, epochs=10, steps_per_epoch=5))
    assert r.outcome == "unsettled"


@pytest.mark.slow
def test_validate_summary_has_measured_and_predicted_outcomes(tmp_path):
    """summary.json of a linear run: the measured outcome by the rule, the prediction beside it, and a
    diverged run (lr 10, L2) unsettled with no surviving modes and no final regime."""
    pytest.importorskip("torch")
    r = _cli("validate", "linear", "--d", 16, "--h", 16, "--epochs", 2, "--steps-per-epoch", 3, "--batch", 64,
             "--no-figures", "--no-predict", "--loss", "l2", "--lr", 10, "--out", tmp_path / "div")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "div" / "summary.json").read_text())
    assert s["diverged"] and s["measured_outcome"] == "unsettled" and s["surviving_modes"] == 0
    assert s["final_regime"] is None and s["predicted_outcome"]["outcome"] == "unsettled"
    r = _cli("validate", "linear", "--d", 16, "--h", 16, "--epochs", 60, "--steps-per-epoch", 5, "--batch", 512,
             "--no-figures", "--no-predict", "--loss", "l2", "--rho", 1.0, "--out", tmp_path / "col")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "col" / "summary.json").read_text())
    pmax = s["max_abs_p"]
    first = next(k for k, v in zip(s["checkpoint_steps"], pmax) if v < 1e-3 * pmax[0])
    assert s["measured_outcome"] == "collapse" and s["measured_collapse_step"] == first
    assert s["predicted_outcome"]["outcome"] == "collapse"


def test_cosine_params_from_weights_and_init_and_the_init_norms_flag(tmp_path):
    """CosineParams.from_weights reads N_Phi = ||Phi||_F, N_Psi = ||W Phi||_F, T = tr(W Phi Phi^T);
    from_init is that of the numpy draw; --init-norms puts them on the command line and says so."""
    from dynamics import CosineParams, critical_value

    W0, Phi0 = draw_initial_weights(64, 48, seed=4)
    p = CosineParams.from_weights(W0, Phi0, rho=0.02)
    assert p.n_phi == pytest.approx(np.sqrt(np.sum(Phi0 ** 2)))
    assert p.n_psi == pytest.approx(np.sqrt(np.sum((W0 @ Phi0) ** 2)))
    assert p.trace == pytest.approx(np.trace(W0 @ Phi0 @ Phi0.T)) and p.rho == 0.02
    assert CosineParams.from_init(64, 48, seed=4) == CosineParams.from_weights(W0, Phi0)
    r = _cli("equilibria", "--model", "cosine-simsiam", "--rho", 0.01, "--init-norms", "64,48,4", "--json")
    assert r.returncode == 0, r.stderr
    assert "norms from the initial weights" in r.stderr
    out = json.loads(r.stdout)
    assert out["params"]["n_phi"] == pytest.approx(p.n_phi) and out["params"]["trace"] == pytest.approx(p.trace)
    assert out["critical"]["value"] == pytest.approx(critical_value(CosineParams.from_weights(W0, Phi0)), rel=1e-9)
    r = _cli("equilibria", "--model", "l2-byol", "--init-norms", "64,48")
    assert r.returncode == 2 and "--init-norms sets" in r.stderr
