"""The CLI as a new user meets it: defaults stated and named, fates of given initial values,
summaries of the finals, the time map from a training recipe, BYOL's EMA momentum, warnings.

Numbers are checked against closed forms (the L2 reduced flow's equilibria
:math:`p_\\pm=(\\tau\\pm\\sqrt{\\tau^2-4\\eta(1+\\sigma^2)})/(2(1+\\sigma^2))`, the heavy-ball time
sum), scipy's solve_ivp and direct iteration of SGD and of the EMA update.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sims.cli import main
from test_cli_errors import one_line_error, run
from symbolic.params import CosineParams, L2Params

ETA, SIGMA2, TAU = 0.05, 0.5, 1.0


def l2_rhs(p, eta=ETA, sigma2=SIGMA2, tau=TAU):
    """Tian et al. 2021 eq. 16 (reduced, alpha_p dropped out): -p (eta - tau p + (1 + sigma2) p^2)."""
    return -p * (eta - tau * p + (1 + sigma2) * p * p)


def l2_roots(eta=ETA, sigma2=SIGMA2, tau=TAU):
    disc = math.sqrt(tau**2 - 4 * eta * (1 + sigma2))
    return (tau - disc) / (2 * (1 + sigma2)), (tau + disc) / (2 * (1 + sigma2))


def cli(argv, capsys):
    """(stdout, stderr) of a successful ``ssldyn argv``."""
    capsys.readouterr()
    code = main(argv)
    c = capsys.readouterr()
    assert code == 0, c.err
    return c.out, c.err


# --- defaults in --help and in the output --------------------------------------------------------
@pytest.mark.parametrize("command", ["integrate", "equilibria"])
def test_help_states_every_default(command, capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    if command == "integrate":
        assert "--rtol RTOL relative tolerance (adaptive) (default: 1e-08)" in text
    for flag, model, value in [("--n-phi", "cosine-simsiam", CosineParams().n_phi),
                               ("--n-psi", "cosine-simsiam", CosineParams().n_psi),
                               ("--trace", "cosine-simsiam", CosineParams().trace),
                               ("--rho", "cosine-simsiam", CosineParams().rho),
                               ("--eta", "l2-byol", L2Params().eta), ("--tau", "l2-byol", L2Params().tau)]:
        m = re.search(re.escape(flag) + r" X (.*?)\(default: ([^)]*)\)", text)
        assert m, flag
        shown = m.group(2)        # one value shared by every model that has it, or "V for M, ..."
        assert (" for " not in shown and float(shown) == value) or f"{value:g} for {model}" in shown, (flag, shown)


def test_equilibria_names_the_defaults(capsys):
    out, _ = cli(["equilibria", "--model", "cosine-simsiam", "--rho", "0.02", "--json"], capsys)
    d = json.loads(out)
    assert d["defaults_used"] == ["sigma2", "n_phi", "n_psi", "trace"]
    out, _ = cli(["equilibria", "--model", "cosine-simsiam", "--rho", "0.02", "--n-phi", "3"], capsys)
    p = CosineParams()
    assert f"defaults used: sigma2={p.sigma2:g}, n_psi={p.n_psi:g}, trace={p.trace:g}" in out.splitlines()


# --- equilibria --p0: fates and end points ------------------------------------------------------
def test_equilibria_fates_against_closed_form(capsys):
    lo, hi = l2_roots()
    p0 = [-1.0, 0.5 * lo, 0.5 * (lo + hi), 2 * hi, hi]
    out, _ = cli(["equilibria", "--model", "l2-byol", "--json", "--p0", ",".join(map(repr, p0))], capsys)
    fates = json.loads(out)["fates"]
    assert [f["p0"] for f in fates] == p0
    # -p((1+s2)p^2 - tau p + eta): > 0 below 0, < 0 on (0, p-), > 0 on (p-, p+), < 0 above p+
    assert [f["fate"] for f in fates] == ["collapse", "collapse", "converge", "converge", "converge"]
    assert fates[0]["end"] == 0.0 and fates[1]["end"] == 0.0
    for f in fates[2:]:
        assert f["end"] == pytest.approx(hi, rel=1e-12)
    out, _ = cli(["equilibria", "--model", "l2-byol", "--p0", "0.3"], capsys)
    assert re.search(r"p0 = 0\.3: converge -> ([0-9.]+)", out)
    assert float(re.search(r"p0 = 0\.3: converge -> ([0-9.]+)", out).group(1)) == pytest.approx(hi, rel=1e-12)


def test_equilibria_fate_diverge_end(capsys):
    # cosine worked example (Acute): below the negative equilibrium p1 the flow runs to -inf
    out, _ = cli(["equilibria", "--model", "cosine-simsiam", "--json", "--p0=-5:-4:3"], capsys)
    d = json.loads(out)
    p1 = d["equilibria"][0]["p"]
    assert p1 < -1
    assert [(f["fate"], f["end"]) for f in d["fates"]] == [("diverge", "-inf")] * 3
    # the SymPy rhs (Bao eq. 7) at the defaults is < 0 below p1: the flow runs off to -inf
    from symbolic.models import derive
    from symbolic.registry import field_name

    e = derive("cosine-simsiam", "reduced").rhs["p"]
    at = {s: getattr(CosineParams(), field_name("cosine-simsiam", s.name)) for s in e.free_symbols if s.name != "p"}
    value = float(e.subs(at).subs({s: -4.0 for s in e.free_symbols if s.name == "p"}))
    assert value < 0


# --- integrate: comma lists, summaries against solve_ivp ----------------------------------------
@pytest.mark.slow
def test_integrate_list_finals_against_solve_ivp(tmp_path, capsys):
    p0 = [0.02, 0.1, 0.3, 1.0]
    t_end = 400.0
    out, err = cli(["integrate", "--model", "l2-byol", "--p0", ",".join(map(str, p0)), "--t-end", str(t_end),
                   "--out", str(tmp_path / "r.npz")], capsys)
    assert err == ""       # t_end * slowest rate is large: no warning
    ref = [solve_ivp(lambda t, y: l2_rhs(y), (0, t_end), [x], rtol=1e-11, atol=1e-13).y[0, -1] for x in p0]
    z = np.load(tmp_path / "r.npz")
    np.testing.assert_allclose(z["p0"], p0)
    np.testing.assert_allclose(z["final"], ref, rtol=1e-7, atol=1e-10)
    lines = out.splitlines()
    assert "defaults used: eta=0.05, sigma2=0.5, tau=1, alpha_p=1, beta=0" in lines
    m = re.search(r"final p: min (\S+), median (\S+), max (\S+)", out)
    assert [float(v) for v in m.groups()] == pytest.approx([min(ref), float(np.median(ref)), max(ref)], rel=1e-7, abs=1e-10)
    for x, r in zip(p0, ref):
        row = [l for l in lines if l.strip().startswith(f"{x:.10g} ->")]
        assert len(row) == 1 and float(row[0].split("->")[1].split()[0]) == pytest.approx(r, rel=1e-7, abs=1e-10)
        assert row[0].endswith("(success)")


def test_integrate_many_trajectories_no_list(tmp_path, capsys):
    out, _ = cli(["integrate", "--model", "l2-byol", "--p0", "0.1:1:21", "--t-end", "400",
                 "--out", str(tmp_path / "r.npz")], capsys)
    assert "final p: min" in out and " -> " not in out


def test_integrate_short_t_end_warns(tmp_path, capsys):
    # slowest stable rate: |f'(0)| = eta and |f'(p+)| = p+ (2 (1+s2) p+ - tau) (closed forms)
    lo, hi = l2_roots()
    rate = min(ETA, hi * (2 * (1 + SIGMA2) * hi - TAU))
    for t_end, warned in [(0.9 * 3 / rate, True), (1.1 * 3 / rate, False)]:
        out, err = cli(["integrate", "--model", "l2-byol", "--p0", "0.5", "--t-end", repr(t_end),
                       "--out", str(tmp_path / "r.npz")], capsys)
        lines = err.splitlines()
        assert (len(lines) == 1 and lines[0].startswith("ssldyn: warning: t_end")) == warned, err
        if warned:
            assert f"use --t-end >= {3 / rate:g}" in lines[0]


# --- the time map ---------------------------------------------------------------------------------
def test_time_map_closed_form_and_flow_time():
    from dynamics.sgd_mean_field import flow_time
    from dynamics.time_map import constant_lr_time, ode_time, steps_per_unit

    for k, lr, m in [(1, 0.05, 0.9), (1000, 0.05, 0.9), (37, 0.3, 0.0), (500, 0.01, 0.99)]:
        direct = sum(lr * (1 - m ** (k - i)) / (1 - m) for i in range(k))   # module docstring's sum
        assert constant_lr_time(k, lr, m) == pytest.approx(direct, rel=1e-12)
        assert ode_time([lr] * k, m) == pytest.approx(direct, rel=1e-12)
        assert float(flow_time([lr] * k, m)[-1]) == pytest.approx(direct, rel=1e-12)
    assert steps_per_unit(0.05, 0.9) == pytest.approx(2.0)


def test_time_map_against_heavy_ball_sgd():
    """Heavy-ball SGD on L = a w^2 / 2 follows w(t) = exp(-a t) at t = the mapped time."""
    from dynamics.time_map import constant_lr_time

    a, lr, m, k = 1.0, 2e-4, 0.9, 20000
    w, v = 1.0, 0.0
    for _ in range(k):
        v = m * v - lr * a * w
        w = w + v
    t = constant_lr_time(k, lr, m)
    assert t == pytest.approx(k * lr / (1 - m), rel=1e-3)
    assert w == pytest.approx(math.exp(-a * t), rel=5e-3)


def test_ema_beta_against_iterated_ema():
    """W_a <- m W_a + (1-m) W per step next to dW_a/dt = beta (W - W_a) with beta = -ln(m)(1-mu)/lr."""
    from dynamics.time_map import ema_beta

    m, lr, mu = 0.996, 0.05, 0.9
    beta = ema_beta(m, lr, mu)
    assert beta == pytest.approx(-math.log(m) * (1 - mu) / lr, rel=1e-15)
    assert beta == pytest.approx((1 - m) * (1 - mu) / lr, rel=3e-3)
    dt = lr / (1 - mu)

    def W(t):
        return 1.0 + 0.5 * math.sin(0.002 * t)

    k = 4000
    wa_const, wa = 0.0, 0.0
    for i in range(k):
        wa_const = m * wa_const + (1 - m) * 1.0
        wa = m * wa + (1 - m) * W((i + 1) * dt)
    t = k * dt
    # constant W: exact, 1 - m^k = 1 - exp(-beta t)
    assert wa_const == pytest.approx(1 - math.exp(-beta * t), rel=1e-12)
    flow = solve_ivp(lambda s, y: beta * (W(s) - y), (0, t), [0.0], rtol=1e-11, atol=1e-13).y[0, -1]
    assert wa == pytest.approx(flow, rel=2e-3)


def test_integrate_steps_prints_ode_time(tmp_path, capsys):
    from dynamics.time_map import constant_lr_time

    out, err = cli(["integrate", "--model", "l2-byol", "--p0", "0.5", "--steps", "2000", "--lr", "0.05",
                   "--momentum", "0.9", "--out", str(tmp_path / "r.npz")], capsys)
    t = 0.05 / 0.1 * (2000 - 0.9 * (1 - 0.9**2000) / 0.1)
    assert t == pytest.approx(constant_lr_time(2000, 0.05, 0.9))
    m = re.search(r"ODE time t_end = (\S+) \(2000 steps at lr 0.05, momentum 0.9; one unit of t = 2 steps\)", out)
    assert m and float(m.group(1)) == pytest.approx(t, rel=1e-9)
    z = np.load(tmp_path / "r.npz")
    assert float(z["t_end"]) == pytest.approx(t, rel=1e-12)
    ref = solve_ivp(lambda s, y: l2_rhs(y), (0, t), [0.5], rtol=1e-11, atol=1e-13).y[0, -1]
    assert float(z["final"][0]) == pytest.approx(ref, rel=1e-7)


@pytest.mark.slow
def test_integrate_ema_momentum_sets_beta(tmp_path, capsys):
    y0 = tmp_path / "y0.npy"
    np.save(y0, np.array([[0.5, 0.25, 0.3]]))         # (p, s, tau), s = p^2 / alpha_p
    out, err = cli(["integrate", "--model", "l2-byol", "--form", "eigen", "--p0", str(y0), "--t-end", "50",
                   "--ema-momentum", "0.99", "--lr", "0.05", "--out", str(tmp_path / "r.npz")], capsys)
    beta = -math.log(0.99) * (1 - 0.9) / 0.05
    z = np.load(tmp_path / "r.npz")
    assert float(z["param_beta"]) == pytest.approx(beta, rel=1e-14)
    assert re.search(r"beta = (\S+) \(EMA momentum 0.99 per step\)", out)
    assert "beta" not in out.split("defaults used:")[1].splitlines()[0]
    # tau's own equation (Tian eq. 11 restricted: d tau/dt = beta (1 - tau) - tau s'/(2 s)) moves tau
    # towards 1 at rate beta when s is still: the final tau lies between 0.3 and 1
    assert 0.3 < float(z["final"][0, 2]) < 1.0


# --- bad input of every new flag: one line, exit 2 -------------------------------------------------
L2 = ["integrate", "--model", "l2-byol", "--p0", "0.5"]


@pytest.mark.slow
@pytest.mark.parametrize("argv, words", [
    (["equilibria", "--model", "cosine-simsiam", "--p0", "0.1,,x"], ["--p0", "empty"]),
    (["equilibria", "--model", "cosine-simsiam", "--p0", "0.1,x"], ["--p0", "value 2", "'x', not a number"]),
    (L2[:-2] + ["--p0", "0.1,nan", "--t-end", "1"], ["--p0 value 2"]),          # L2 without its --p0 (given twice: refused)
    (L2 + ["--steps", "10", "--lr", "0.1", "--momentum", "1"], ["--momentum", "[0, 1)"]),
    (L2 + ["--steps", "10", "--lr", "0", "--momentum", "0.5"], ["--lr", "(0, "]),
    (L2 + ["--steps", "0", "--lr", "0.1"], ["--steps", "integer"]),
    (L2 + ["--steps", "1.5", "--lr", "0.1"], ["--steps", "integer"]),
    (L2 + ["--steps", "10"], ["--steps needs --lr"]),
    (L2 + ["--steps", "10", "--lr", "0.1", "--t-end", "3"], ["not both"]),
    (L2, ["--t-end", "--steps"]),
    (L2 + ["--t-end", "3", "--lr", "0.1"], ["--lr needs --steps"]),
    (L2 + ["--t-end", "3", "--momentum", "0.5"], ["--momentum needs --lr"]),
    (L2 + ["--t-end", "3", "--form", "eigen", "--ema-momentum", "0.99"], ["--ema-momentum needs --lr"]),
    (L2 + ["--t-end", "3", "--ema-momentum", "0.99", "--lr", "0.1"], ["--form eigen"]),
    (L2 + ["--t-end", "3", "--form", "eigen", "--ema-momentum", "0", "--lr", "0.1"], ["--ema-momentum", "(0, 1]"]),
    (L2 + ["--t-end", "3", "--form", "eigen", "--ema-momentum", "1.5", "--lr", "0.1"], ["--ema-momentum", "(0, 1]"]),
    (L2 + ["--t-end", "3", "--form", "eigen", "--ema-momentum", "0.9", "--lr", "0.1", "--beta", "1"], ["not both"]),
    (["integrate", "--model", "cosine-simsiam", "--p0", "0.5", "--t-end", "3", "--ema-momentum", "0.9", "--lr", "0.1"],
     ["l2-byol"]),
])
def test_bad_new_flags_one_line(argv, words, tmp_path, capsys):
    if argv[0] == "integrate":
        argv = argv + ["--out", str(tmp_path / "r.npz")]
    code, err = run(argv, capsys)
    one_line_error(code, err, *words)
    assert not (tmp_path / "r.npz").exists()
