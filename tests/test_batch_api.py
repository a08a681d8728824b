"""Silent wrong results at the library's edges (issue #12): bad arrays reaching the numba batch
loops, bifurcation events lost or outside their range, overflowing parameters classified anyway,
non-strict JSON and bad names that end in a TypeError or a traceback.

Oracles: the theory notes' worked example (rho_c = 0.10080523326 at sigma2 = 0.5, N_Phi = 2,
N_Psi = 1.5, T = 0.5) and the scalings rho_c ~ 1/N_Phi and ~ 1/(1 + sigma2) of Bao eq. 7
(K_c depends on N_Psi and T only); the fold's double root from numpy.roots of Q'.
"""
import json

import numpy as np
import pytest

from dynamics.continuation import equilibrium_branches, saddle_node_curve
from dynamics.equilibria import critical_value, equilibria_batch, find_equilibria, regimes_batch, regimes_grid
from dynamics.integrate import integrate
from dynamics.params import CosineParams, L2Params
from dynamics.regimes import predict_fate, predict_fate_batch, regime_map
from sims.cli import main
from symbolic.errors import ParameterError

RHO_C = 0.10080523326                     # theory notes sec. 5, worked example
EX = np.array([[0.01, 0.5, 2.0, 1.5, 0.5]])   # its kernel row (rho, sigma2, N_Phi, N_Psi, T)
ROOTS = [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315]


def _fold_p(n_psi=1.5, T=0.5):
    """Double root of Q = 2p^5 + T p^2 - N_Psi^2 p + K at K = K_c: the positive root of Q'."""
    r = np.roots([10.0, 0, 0, 2 * T, -n_psi**2])
    return float(max(z.real for z in r if abs(z.imag) < 1e-12 and z.real > 0))


# --- 1. the batch API ---------------------------------------------------------------------
@pytest.mark.slow
def test_worked_example_through_the_batch_api():
    roots, n = equilibria_batch("cosine-simsiam", EX)
    np.testing.assert_allclose(roots[0, :n[0]], ROOTS, atol=1e-10)
    codes, crits = regimes_batch("cosine-simsiam", EX)
    assert codes[0] == 1 and abs(crits[0] - RHO_C) < 1e-10


@pytest.mark.parametrize("fn", ["equilibria", "regimes", "fates"])
@pytest.mark.parametrize("shape", [(1, 3), (1, 6), (2, 5, 1), (5,) * 3])
def test_wrong_shape_is_refused(fn, shape):
    theta = np.ones(shape)
    with pytest.raises(ParameterError, match=r"theta must have shape \(n, 5\)"):
        if fn == "equilibria":
            equilibria_batch("cosine-simsiam", theta)
        elif fn == "regimes":
            regimes_batch("cosine-simsiam", theta)
        else:
            predict_fate_batch("cosine-simsiam", theta, np.ones(1))


def test_p0_must_match_the_rows():
    # on main a single row with 10^6 initial conditions read far past theta (garbage or a segfault)
    with pytest.raises(ParameterError, match=r"p0 must have shape \(1,\)"):
        predict_fate_batch("cosine-simsiam", EX, np.full(1_000_000, 0.5))
    with pytest.raises(ParameterError, match="p0"):
        predict_fate_batch("cosine-simsiam", np.repeat(EX, 3, 0), [0.5, 0.5])
    with pytest.raises(ParameterError, match="p0"):
        predict_fate_batch("cosine-simsiam", np.repeat(EX, 2, 0), [[0.5, 0.5]])


@pytest.mark.parametrize("bad,kind", [(EX.astype(complex), "complex"), (EX.astype(object), "object"),
                                      (np.ones((1, 5), dtype=bool), "bool"),
                                      (np.zeros((1, 5), dtype="datetime64[s]"), "datetime"),
                                      ([["0.01", "0.5", "2", "1.5", "0.5"]], "string")])
def test_non_real_dtypes_are_refused(bad, kind):
    for call in (lambda: equilibria_batch("cosine-simsiam", bad), lambda: regimes_batch("cosine-simsiam", bad),
                 lambda: predict_fate_batch("cosine-simsiam", bad, [0.5])):
        with pytest.raises(ParameterError, match=f"theta must be a real numeric array.*{kind}"):
            call()
    with pytest.raises(ParameterError, match="p0 must be a real numeric array"):
        predict_fate_batch("cosine-simsiam", EX, np.array([0.5 + 0j]))


@pytest.mark.slow
def test_integers_are_cast_and_layouts_do_not_matter():
    rows = np.array([[0, 1, 2, 3, 1], [1, 0, 1, 1, -1]])          # ints: rho = 0 and rho = 1
    ref_r, ref_n = equilibria_batch("cosine-simsiam", rows.astype(float))
    r, n = equilibria_batch("cosine-simsiam", rows)
    np.testing.assert_array_equal(n, ref_n)
    np.testing.assert_array_equal(r, ref_r)
    # a Fortran-ordered copy and a strided view of the same rows give the same answers
    big = np.repeat(EX, 6, 0) * np.linspace(1, 2, 6)[:, None]
    c_ref, k_ref = regimes_batch("cosine-simsiam", big)
    for view in (np.asfortranarray(big), np.repeat(big, 2, 0)[::2], np.repeat(big, 2, 1)[:, ::2]):
        c, k = regimes_batch("cosine-simsiam", view)
        np.testing.assert_array_equal(c, c_ref)
        np.testing.assert_array_equal(k, k_ref)
    f_ref = predict_fate_batch("cosine-simsiam", big, np.full(6, 0.5))
    f = predict_fate_batch("cosine-simsiam", np.asfortranarray(big), np.repeat(np.full(6, 0.5), 2)[::2])
    np.testing.assert_array_equal(f, f_ref)
    # identical inputs, identical fates (on main a short theta gave mixed fates)
    assert len(set(predict_fate_batch("cosine-simsiam", np.repeat(EX, 50, 0), np.full(50, 0.5)))) == 1


@pytest.mark.parametrize("col,name", [(0, "rho"), (2, "N_Phi"), (4, "T")])
def test_nan_parameters_are_refused_naming_them(col, name):
    theta = np.repeat(EX, 3, 0)
    theta[1, col] = np.nan
    for call in (lambda: equilibria_batch("cosine-simsiam", theta), lambda: regimes_batch("cosine-simsiam", theta),
                 lambda: predict_fate_batch("cosine-simsiam", theta, np.full(3, 0.5))):
        with pytest.raises(ParameterError, match=r"%s \(theta\[:, %d\]\) must be finite; got nan in row 1" % (name, col)):
            call()
    with pytest.raises(ParameterError, match="p0 must be finite"):
        predict_fate_batch("cosine-simsiam", EX, [np.nan])
    with pytest.raises(ParameterError, match="p0 must be finite"):
        predict_fate(CosineParams(), [0.5, np.inf])


@pytest.mark.parametrize("col,value,field", [(0, -0.1, "rho"), (1, -1.0, "sigma2"), (2, 0.0, "n_phi"),
                                             (3, -1.5, "n_psi")])
def test_rows_get_the_dataclass_ranges(col, value, field):
    theta = np.repeat(EX, 4, 0)
    theta[2, col] = value
    for call in (lambda: equilibria_batch("cosine-simsiam", theta), lambda: regimes_batch("cosine-simsiam", theta),
                 lambda: predict_fate_batch("cosine-simsiam", theta, np.full(4, 0.5)),
                 lambda: integrate("cosine-simsiam", theta, np.full(4, 0.5), 1.0)):
        with pytest.raises(ParameterError, match=fr"{field} \((theta|params)\[:, {col}\]\) must be in .*row 2"):
            call()


def test_integrate_rows_l2_ranges():
    # l2-byol reduced rows are (eta, sigma2, tau, alpha_p); alpha_p must be > 0, as in L2Params
    rows = np.array([[0.05, 0.5, 1.0, 1.0], [0.05, 0.5, 1.0, 0.0]])
    with pytest.raises(ParameterError, match=r"alpha_p .* must be in \(0, inf\); got 0.0 in row 1"):
        integrate("l2-byol", rows, [0.3, 0.3], 1.0)
    with pytest.raises(ParameterError, match="params must be a real numeric array"):
        integrate("l2-byol", rows.astype(complex), [0.3, 0.3], 1.0)


def test_regimes_grid_checks_its_arrays():
    base = EX[0]
    with pytest.raises(ParameterError, match="base_theta"):
        regimes_grid("cosine-simsiam", base[:3], 0, [0.01], 3, [1.5])
    with pytest.raises(ParameterError, match="xs must be finite"):
        regimes_grid("cosine-simsiam", base, 0, [np.nan], 3, [1.5])
    with pytest.raises(ParameterError, match="ix"):
        regimes_grid("cosine-simsiam", base, 7, [0.01], 3, [1.5])
    with pytest.raises(ParameterError, match="n_psi"):
        regimes_grid("cosine-simsiam", base, 0, [0.01], 3, [-1.0, 1.5])


# --- 2. bifurcation events --------------------------------------------------------------------
@pytest.mark.slow
def test_fold_along_n_phi_is_found():
    # rho_c ~ 1 / N_Phi: rho_c = rho = 0.01 at N_Phi = 2 RHO_C / 0.01. On main Newton failed on this
    # grid (step 12.5) and the bracketed fold was dropped without a word
    values = np.linspace(0.1, 1e4, 801)
    b = equilibrium_branches("cosine-simsiam", "n_phi", values, {})
    assert b.folds.shape == (1, 2) and b.transcritical.size == 0 and not b.warnings
    assert abs(b.folds[0, 0] - 2 * RHO_C / 0.01) < 1e-8            # the notes' rho_c has 11 digits
    assert abs(b.folds[0, 1] - _fold_p()) < 1e-6                  # sqrt-sensitive double root


def test_events_stay_inside_the_range_and_domain():
    # on main: "transcritical at sigma2 = -1" (outside [0, 1e10] and the domain) and no fold
    values = np.linspace(0.0, 1e10, 11)
    b = equilibrium_branches("cosine-simsiam", "sigma2", values, {})
    assert b.transcritical.size == 0
    assert b.folds.shape == (1, 2)
    s_star = 1.5 * RHO_C / 0.01 - 1                               # rho_c ~ 1 / (1 + sigma2)
    assert abs(b.folds[0, 0] - s_star) / s_star < 1e-9
    assert abs(b.folds[0, 1] - _fold_p()) < 1e-6
    for ev in (b.folds, b.transcritical):
        assert np.all((ev[:, 0] >= 0) & (ev[:, 0] <= 1e10))


def test_transcritical_at_the_range_end_is_kept():
    b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.2, 201), {})
    assert b.transcritical.shape == (1, 2) and 0.0 <= b.transcritical[0, 0] < 1e-12
    assert b.folds.shape == (1, 2) and abs(b.folds[0, 0] - RHO_C) < 1e-10


def test_bifurcation_cli_reports_the_fold(tmp_path, capsys):
    rc = main(["bifurcation", "--model", "cosine-simsiam", "--param", "n-phi:0.1:1e4", "--out", str(tmp_path / "b.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "fold at n_phi = 20.16104665" in out
    rc = main(["bifurcation", "--model", "cosine-simsiam", "--param", "sigma2:0:1e10", "--n", "11",
               "--out", str(tmp_path / "c.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "transcritical" not in out and "fold at sigma2 = 14.12078" in out
    z = np.load(tmp_path / "c.npz")
    assert z["warnings"].size == 0


# --- 3. extreme values, strict JSON, bad names ------------------------------------------------
@pytest.mark.parametrize("model,kw,name", [("cosine-simsiam", {"n_psi": 1e200}, "n_psi"),
                                           ("cosine-simsiam", {"n_psi": 1e-200}, "n_psi"),
                                           ("cosine-simsiam", {"trace": -1e308}, "trace"),
                                           ("cosine-simsiam", {"rho": 1e308}, "rho"),
                                           ("l2-byol", {"tau": 1e308}, "tau"),
                                           ("l2-byol", {"sigma2": 1e308}, "sigma2")])
def test_overflowing_parameters_are_errors(model, kw, name):
    cls = CosineParams if model == "cosine-simsiam" else L2Params
    # refused by the magnitude limit of the dataclass (round 3, W7), or by the overflow check
    with pytest.raises(ParameterError, match=f"^{name} must be (in|0 or of magnitude in) .*; got") as e:
        find_equilibria(cls(**kw))
    assert "\n" not in str(e.value)
    # the bound it names is usable: just inside it the result is finite and classified
    bound = float(str(e.value).split("]")[0].split(", ")[-1]) if "inf)" not in str(e.value) \
        else float(str(e.value).split("[")[1].split(",")[0])
    eq = find_equilibria(cls(**{name: bound}))
    assert np.isfinite(eq.critical_value) and np.all(np.isfinite(eq.p)) and eq.regime in ("Collapse", "Acute")


def test_overflow_in_a_batch_names_the_row():
    theta = np.repeat(EX, 3, 0)
    theta[2, 3] = 1e200
    # the magnitude limit of the dataclass applies to every row (round 3, W7)
    with pytest.raises(ParameterError, match=r"n_psi \(theta\[:, 3\]\) must be 0 or of magnitude .* in row 2"):
        equilibria_batch("cosine-simsiam", theta)
    with pytest.raises(ParameterError, match=r"n_psi \(theta\[:, 3\]\) must be 0 or of magnitude .* in row 2"):
        regimes_batch("cosine-simsiam", theta)
    with pytest.raises(ParameterError, match="n_psi must be 0 or of magnitude"):
        critical_value(CosineParams(n_psi=1e200))
    with pytest.raises(ParameterError, match="n_psi must be 0 or of magnitude"):
        regime_map("cosine-simsiam", "rho", [0.01, 0.02], "n_psi", [1.5, 1e200])


@pytest.mark.parametrize("argv,name", [(["--model", "cosine-simsiam", "--n-psi", "1e200"], "n_psi"),
                                       (["--model", "l2-byol", "--tau", "1e308"], "tau"),
                                       (["--model", "l2-byol", "--tau", "1e308", "--json"], "tau")])
def test_cli_equilibria_overflow_is_an_error(argv, name, capsys):
    rc = main(["equilibria", *argv])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    # the CLI's magnitude check or the library's overflow check: one line naming the parameter
    assert cap.err.startswith("ssldyn: error: ") and cap.err.count("\n") == 1
    assert name in cap.err or name.replace("_", "-") in cap.err


def test_cli_equilibria_json_is_strict(capsys):
    def refuse(c):
        raise AssertionError(f"non-JSON constant {c}")
    for argv in (["--model", "cosine-simsiam"], ["--model", "l2-byol", "--eta", "0.0625", "--sigma2", "3"],
                 ["--model", "cosine-simsiam", "--n-psi", "1e30"]):
        assert main(["equilibria", *argv, "--json"]) == 0
        d = json.loads(capsys.readouterr().out, parse_constant=refuse)
        assert np.isfinite(d["critical"]["value"])


def test_cli_regime_map_axis_also_fixed_and_bad_check_p0(tmp_path, capsys):
    base = ["regime-map", "--model", "cosine-simsiam", "--x", "rho:0.001:0.1:3", "--y", "n-psi:0.5:2:3",
            "--out", str(tmp_path / "m.npz")]
    assert main([*base, "--rho", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--rho" in err and "--x" in err and err.count("\n") == 1
    assert main([*base, "--n-psi", "1.0"]) == 2
    assert "--n-psi" in capsys.readouterr().err
    for bad in ("a:b", "1:0", "0:nan", "1"):
        assert main([*base, "--check", "3", "--check-p0", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ssldyn: error: --check-p0") and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()                    # every check before the map


def test_cli_bifurcation_param_also_fixed(tmp_path, capsys):
    assert main(["bifurcation", "--model", "cosine-simsiam", "--param", "rho:0:0.2", "--rho", "0.3",
                 "--out", str(tmp_path / "b.npz")]) == 2
    assert "--rho" in capsys.readouterr().err


@pytest.mark.parametrize("call", [
    lambda: saddle_node_curve("cosine-simsiam", "rho", "eta", {}, (1e-3, 1e-1), (0.5, 5)),
    lambda: saddle_node_curve("cosine-simsiam", "rho", "n_psi", {"lam": 2.0}, (1e-3, 1e-1), (0.5, 5)),
    lambda: equilibrium_branches("cosine-simsiam", "n-psy", np.linspace(0.5, 5, 5)),
    lambda: equilibrium_branches("cosine-simsiam", "rho", np.linspace(0, 0.1, 5), {"N_Eta": 1.0}),
    lambda: regime_map("cosine-simsiam", "rho", [0.01], 3, [1.5]),
    lambda: regime_map("cosine-simsiam", "rho", [0.01], "n_psi", [1.5], {"eta": 0.1}),
])
def test_bad_parameter_names_are_parameter_errors(call):
    with pytest.raises(ParameterError, match="must be one of rho, sigma2, n_phi, n_psi, trace"):
        call()


@pytest.mark.slow
def test_parameter_spellings_are_normalised_at_every_entry_point():
    # the registry issue: 'n-psi', 'n_psi' and the kernel name 'N_Psi' are one parameter everywhere
    # (today's main raised for the first and the last)
    fixed = {"sigma2": 0.5, "n_phi": 2.0, "trace": 0.0}
    ref = saddle_node_curve("cosine-simsiam", "rho", "n_psi", fixed, (1e-3, 1e-1), (0.5, 5))
    for name, fx in (("n-psi", {"sigma2": 0.5, "n-phi": 2.0, "T": 0.0}), ("N_Psi", {"sigma2": 0.5, "N_Phi": 2.0, "trace": 0.0})):
        got = saddle_node_curve("cosine-simsiam", "rho", name, fx, (1e-3, 1e-1), (0.5, 5))
        np.testing.assert_array_equal(got.x, ref.x)
        np.testing.assert_array_equal(got.y, ref.y)
        assert got.y_name == "n_psi"
    a = equilibrium_branches("cosine-simsiam", "n-psi", np.linspace(0.5, 5, 5), {"N_Phi": 2.0})
    b = equilibrium_branches("cosine-simsiam", "n_psi", np.linspace(0.5, 5, 5), {"n_phi": 2.0})
    np.testing.assert_array_equal(a.p, b.p)
    m1 = regime_map("cosine-simsiam", "rho", [0.01, 0.2], "N_Psi", [1.5, 3.0], {"n-phi": 1.0})
    m2 = regime_map("cosine-simsiam", "rho", [0.01, 0.2], "n_psi", [1.5, 3.0], {"n_phi": 1.0})
    np.testing.assert_array_equal(m1.regime, m2.regime)
    assert m1.y_name == "n_psi" and m1.fixed == {"n_phi": 1.0}
    with pytest.raises(ParameterError, match="given twice"):
        regime_map("cosine-simsiam", "rho", [0.01], "n_psi", [1.5], {"n_phi": 1.0, "N_Phi": 2.0})


@pytest.mark.parametrize("model,row,cls", [
    ("cosine-simsiam", np.full(5, 0.05, dtype=np.float32), CosineParams),      # the CI run that failed
    ("cosine-simsiam", EX[0], CosineParams),
    ("l2-byol", np.array([0.05, 0.5, 1.0, 1.0]), L2Params),
])
def test_scalar_and_batch_equilibria_agree_bit_for_bit(model, row, cls):
    # a separately compiled polynomial moved a root by one ulp (1.3159635798402832e-4 against
    # ...283e-4 at float32 0.05): the scalar API now runs the batch kernel on its one row
    roots, n = equilibria_batch(model, row)
    eq = find_equilibria(cls(*np.asarray(row, np.float64)))
    assert roots[0, :n[0]].tobytes() == eq.p.tobytes()
