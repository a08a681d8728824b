"""The integrate task's newer keys: output times (t_eval -> ys), converge_tol, the eigen form
(eq. 5, one initial axis per state variable) and seeded random initial values. References:
scipy's DOP853 at rtol 1e-12 on the theory notes' eqs. 5 and 7 (tests/oracles.py)."""
import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from oracles import cosine_eq5, cosine_eq7, integrate_sweep_config
from sims.sweep import load_config, merge, parse_config, run_sweep
from symbolic.errors import ParameterError

NORMS = dict(sigma2=0.5, n_phi=2.0, n_psi=1.5, T=0.5)


def _config(initial: str, integrate: str, form: str = "") -> str:
    """tests/oracles.py's integrate config on two decays, with these [initial] and [integrate] lines."""
    text = integrate_sweep_config(4, 5).replace("rho = {lo = 0.001, hi = 0.2, n = 20, log = true}", "rho = [0.01, 0.05]")
    head, _ = text.split("[initial]")
    if form:
        head = head.replace('task = "integrate"', f'task = "integrate"\nform = "{form}"')
    return f"{head}[initial]\n{initial}\n[integrate]\n{integrate}"


REDUCED = _config('p0 = {random = "uniform", lo = -1.0, hi = 1.2, n = 5, seed = 11}\n',
                  "t_end = 20.0\nrtol = 1e-11\natol = 1e-13\nt_eval = [0.0, 0.5, 3.0, 20.0]\n")
EIGEN = _config("p = [-0.6, 0.3, 0.9]\ns = {lo = 0.5, hi = 2.0, n = 2}\n",
                "t_end = 10.0\nrtol = 1e-11\natol = 1e-13\nt_eval = [1.0, 4.0, 10.0]\n", form="eigen")


def _write(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _sweep(tmp_path, text):
    cfg = _write(tmp_path, text)
    run_sweep(cfg, tmp_path / "s", workers=1, progress=False)
    merge(tmp_path / "s", tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:
        return {k: z[k] for k in z.files}


def _scipy(f, y0, ts):
    r = solve_ivp(f, (0.0, ts[-1]), y0, method="DOP853", rtol=1e-12, atol=1e-14, t_eval=ts)
    assert r.success
    return r.y.T                                              # (n_t, n_state)


def test_random_p0_is_seeded_and_recorded(tmp_path):
    draws = np.random.default_rng(11).uniform(-1.0, 1.2, 5)   # the documented draw
    cfg = parse_config(REDUCED)
    np.testing.assert_array_equal(cfg.p0, draws)
    assert parse_config(REDUCED).hash == cfg.hash             # reproducible
    assert parse_config(REDUCED.replace("seed = 11", "seed = 12")).hash != cfg.hash
    assert not np.array_equal(parse_config(REDUCED.replace("seed = 11", "seed = 12")).p0, draws)
    # a list of the same values is another config: the manifest says how the values were made
    listed = REDUCED.replace('{random = "uniform", lo = -1.0, hi = 1.2, n = 5, seed = 11}',
                             "[" + ", ".join(repr(float(v)) for v in draws) + "]")
    assert parse_config(listed).hash != cfg.hash
    z = _sweep(tmp_path, REDUCED)
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert m["random"] == {"p0": {"random": "uniform", "lo": -1.0, "hi": 1.2, "n": 5, "seed": 11}}
    assert "p0" not in m and m["axes"] == ["rho", "p0"]          # the values follow from the embedded config
    np.testing.assert_array_equal(z["axis_p0"], draws)
    again = run_sweep(tmp_path / "c.toml", tmp_path / "s", workers=1, progress=False)   # resumes: nothing to do
    assert again["chunks"] == m["chunks"]
    m["random"]["p0"]["seed"] = 12                              # an edited record is refused
    (tmp_path / "s" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ParameterError, match="random differs"):
        merge(tmp_path / "s", tmp_path / "edited.npz")


def test_t_eval_ys_match_scipy_on_eq7(tmp_path):
    z = _sweep(tmp_path, REDUCED)
    ts = np.array([0.0, 0.5, 3.0, 20.0])
    np.testing.assert_array_equal(z["t_eval"], ts)
    assert z["ys"].shape == (2, 5, 4) and z["final"].shape == (2, 5)
    for i, rho in enumerate(z["axis_rho"]):
        for j, p0 in enumerate(z["axis_p0"]):
            want = _scipy(lambda t, y: [cosine_eq7(y[0], rho, **NORMS)], [p0], ts)[:, 0]
            np.testing.assert_allclose(z["ys"][i, j], want, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(z["final"][i, j], want[-1], rtol=1e-8, atol=1e-10)
    assert np.all(z["status"] == 0)


def test_eigen_form_matches_scipy_on_eq5(tmp_path):
    z = _sweep(tmp_path, EIGEN)
    assert load_config(tmp_path / "c.toml").shape == (2, 3, 2)
    ts = np.array([1.0, 4.0, 10.0])
    assert z["ys"].shape == (2, 3, 2, 3, 2) and z["final"].shape == (2, 3, 2, 2)
    assert z["state"].tolist() == ["p", "s"]
    np.testing.assert_array_equal(z["axis_s"], [0.5, 2.0])
    for i, rho in enumerate(z["axis_rho"]):
        for j, p0 in enumerate(z["axis_p"]):
            for k, s0 in enumerate(z["axis_s"]):
                want = _scipy(lambda t, y: cosine_eq5(y[0], y[1], rho, **NORMS), [p0, s0], ts)
                np.testing.assert_allclose(z["ys"][i, j, k], want, rtol=1e-8, atol=1e-10)
                np.testing.assert_allclose(z["final"][i, j, k], want[-1], rtol=1e-8, atol=1e-10)
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert m["form"] == "eigen" and "p0" not in m and "initial" not in m
    assert m["axes"] == ["rho", "p", "s"] and m["shape"] == [2, 3, 2]
    again = run_sweep(tmp_path / "c.toml", tmp_path / "s", workers=1, progress=False)   # resumes: nothing to do
    assert again["chunks"] == m["chunks"] and again["axes"] == m["axes"]


def test_converge_tol_stops_at_a_small_rhs(tmp_path):
    text = (REDUCED.replace("t_end = 20.0", "t_end = 2000.0").replace("t_eval = [0.0, 0.5, 3.0, 20.0]\n", "")
            + "converge_tol = 1e-7\n")
    z = _sweep(tmp_path, text)
    assert set(z) >= {"final", "status", "t_event"} and "ys" not in z
    rho = z["axis_rho"][:, None]
    stopped = (z["status"] == 0) & np.isfinite(z["t_event"]) & (z["t_event"] < 2000.0)
    assert stopped.sum() >= 5                                  # most trajectories settle well before t_end
    rate = np.abs(cosine_eq7(z["final"], rho, **NORMS))
    assert np.all(rate[stopped] < 1e-7)
    # without the tolerance the same trajectories run to t_end
    (tmp_path / "x").mkdir()
    z2 = _sweep(tmp_path / "x", text.replace("converge_tol = 1e-7\n", ""))
    assert np.all(z2["status"] == 0) and np.all(np.isnan(z2["t_event"]))


def test_netcdf_names_the_output_times_and_states(tmp_path):
    xr = pytest.importorskip("xarray")
    z = _sweep(tmp_path, EIGEN)
    merge(tmp_path / "s", tmp_path / "m.nc")
    with xr.open_dataset(tmp_path / "m.nc") as d:
        assert d["ys"].dims == ("rho", "p", "s", "t_eval", "state")
        assert d["final"].dims == ("rho", "p", "s", "state")
        np.testing.assert_array_equal(d["t_eval"].values, [1.0, 4.0, 10.0])
        assert [str(v) for v in d["state"].values] == ["p", "s"]
        for k in ("ys", "final", "status", "t_event"):
            np.testing.assert_array_equal(d[k].values, z[k])
