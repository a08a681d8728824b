"""The figures' Python API: compute -> result -> draw(result, ax=None) -> Figure, no backend chosen
at import, figures at the user's parameters (``ssldyn figure NAME --rho ...``), phase-plane
windows that hold the equilibria, and the operating point of ``--mark``."""
import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from figures.registry import FIGURES, PARTS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    """Each theory figure's result (fast), computed once."""
    done = {}

    def _get(name):
        if name not in done:
            compute, draw = PARTS[name]
            mod = importlib.import_module(FIGURES[name][0])
            done[name] = (getattr(mod, compute)(fast=True), getattr(mod, draw))
        return done[name]
    return _get


def test_every_figure_has_parts():
    assert set(PARTS) == set(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_draw_returns_a_figure_and_draws_on_given_axes(name, results, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    result, draw = results(name)
    own = draw(result)
    assert isinstance(own, Figure)
    n = len([a for a in own.axes if a.get_label() != "<colorbar>"])
    assert n >= 1 and all(a.has_data() for a in own.axes[:n])
    plt.close(own)
    host, axes = plt.subplots(1, n + 1, squeeze=False)          # one spare Axes stays empty
    given = axes[0, 0] if n == 1 else axes[0, :n]
    assert draw(result, ax=given) is host
    assert all(a.has_data() for a in axes[0, :n]) and not axes[0, n].has_data()
    plt.close(host)
    assert not list(tmp_path.iterdir())                          # drawing writes no file


def test_bad_ax_names_the_parameter(results):
    from symbolic.errors import ParameterError
    import matplotlib.pyplot as plt

    result, draw = results("bao-fig2")                           # three panels
    fig, ax = plt.subplots()
    with pytest.raises(ParameterError, match="ax must be 3 matplotlib Axes"):
        draw(result, ax=ax)
    plt.close(fig)


def test_importing_figures_selects_no_backend():
    code = ("import matplotlib, figures.style, figures.phase, figures.bao, figures.bifurcation, "
            "figures.regime_map, figures.validation, figures.demo, figures.jing; "
            "print(matplotlib.rcParams._get_backend_or_none())")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "None"
    import figures

    src = "".join(p.read_text() for p in __import__("pathlib").Path(figures.__file__).parent.glob("*.py"))
    assert "matplotlib.use(" not in src


def _cli(argv, capsys):
    from sims.cli import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def captured(monkeypatch):
    """The Figures the CLI saves (saved for real, and kept for inspection)."""
    import figures.style as style

    figs = []
    real = style.save

    def keep(fig, *a, **kw):
        figs.append(fig)
        return real(fig, *a, **kw)
    monkeypatch.setattr(style, "save", keep)            # the targets save through figures.style.save
    return figs


def _eigen_equilibria(rho, capsys):
    rc, out, _ = _cli(["equilibria", "--model", "cosine-simsiam", "--rho", repr(rho), "--eigen", "--json"], capsys)
    assert rc == 0
    return json.loads(out)["eigen"]


@pytest.mark.slow
def test_phase_ps_at_the_users_rho_holds_the_equilibria(tmp_path, capsys, captured):
    rc, out, err = _cli(["figure", "phase-ps", "--rho", "0.02", "--fast", "--out", str(tmp_path)], capsys)
    assert rc == 0 and err == ""
    assert (tmp_path / "phase_cosine_ps_plane.png").read_bytes()[:8] == PNG
    (ax,) = captured[0].axes
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    eq = _eigen_equilibria(0.02, capsys)
    stable = [e for e in eq if e["stability"] == "stable" and e["p"] > 0]
    assert stable and abs(stable[0]["p"] - 0.9404) < 1e-3        # Bao eq. 7 at rho = 0.02: p4 = 0.9404
    for e in eq:                                                 # every equilibrium, inside with a margin
        assert x0 + 0.05 * (x1 - x0) < e["p"] < x1 - 0.05 * (x1 - x0)
        assert y0 <= e["s"] < y1 - 0.05 * (y1 - y0)
    assert "0.02" in ax.get_title()


def test_ps_window_follows_the_equilibria():
    from dynamics.params import CosineParams
    from figures.phase import compute_ps_plane

    # N_Psi = 4: the non-zero roots of Q(p) = 2p^5 + T p^2 - N_Psi^2 p + K lie near +-sqrt(N_Psi/sqrt2)
    # ~ +-1.68, outside the old fixed window [-0.5, 1.4] x [0, 2]
    params = CosineParams(rho=0.01, n_psi=4.0)
    r = compute_ps_plane(params, fast=True)
    q = np.roots([2, 0, 0, params.trace, -params.n_psi**2, params.K])
    roots = np.sort(q[np.abs(q.imag) < 1e-9].real)
    (p0, p1), (s0, s1) = r.window
    assert roots.min() < -1.4 and roots.max() > 1.4
    assert p0 < roots.min() and roots.max() < p1 and s1 > roots.max() ** 2 and s1 > roots.min() ** 2
    np.testing.assert_allclose(np.sort(r.equilibria.p[r.equilibria.p != 0]), roots, rtol=1e-9)


def _star(ax):
    stars = [ln for ln in ax.get_lines() if ln.get_marker() == "*" and ln.get_label().startswith("operating point")]
    assert len(stars) == 1
    return stars[0]


def test_mark_on_the_bifurcation_diagram(tmp_path, capsys, captured):
    rc, out, err = _cli(["figure", "bifurcation", "--mark", "rho=0.02", "--fast", "--out", str(tmp_path)], capsys)
    assert rc == 0 and err == ""
    star = _star(captured[0].axes[0])
    # the equilibria at rho = 0.02: p = 0 and the real roots of the quintic Q (theory notes eq. 7)
    from dynamics.params import CosineParams

    c = CosineParams(rho=0.02)
    q = np.roots([2, 0, 0, c.trace, -c.n_psi**2, c.K])
    want = np.sort(np.r_[0.0, q[np.abs(q.imag) < 1e-9].real])
    np.testing.assert_allclose(star.get_xdata(), 0.02)
    np.testing.assert_allclose(np.sort(star.get_ydata()), want, atol=1e-9)
    assert "Acute" in star.get_label()


def test_mark_on_the_regime_map_and_user_parameters(tmp_path, capsys, captured):
    rc, _, err = _cli(["figure", "regime-map", "--sigma2", "1.0", "--n-phi", "5", "--mark", "rho=0.3,n-psi=2",
                       "--fast", "--out", str(tmp_path)], capsys)
    assert rc == 0 and err == ""
    ax = captured[0].axes[0]
    star = _star(ax)
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0.3, 2.0)
    assert ax.get_xlim()[1] >= 0.6                              # the window grew to hold the point (x2 margin)
    assert r"$\sigma^2$=1" in ax.get_title() and r"$N_\Phi$=5" in ax.get_title()
    # rho_c at T = 0 in closed form (Bao eq. 7): 0.8 * 10^(-1/4) / ((1 + sigma2) N_Phi sqrt(N_Psi)) = 0.0636 < 0.3
    assert "Collapse" in star.get_label()


@pytest.mark.parametrize("argv,msg", [
    (["bao-fig2", "--rho", "0.1"], "figure bao-fig2 takes no model parameters"),
    (["phase-ps", "--mark", "rho=0.1"], "--mark is drawn on bifurcation, regime-map"),
    (["bifurcation", "--mark", "rho"], "--mark must be NAME=VALUE"),
    (["bifurcation", "--mark", "rho=abc"], "--mark must be NAME=VALUE"),
    (["bifurcation", "--mark", "zeta=1"], "for model cosine-simsiam; got 'zeta'"),
    (["bifurcation", "--mark", "n_psi=3"], "mark n_psi=3 is off this diagram"),
    (["phase-ps", "--model", "l2-byol"], "model must be one of cosine-simsiam for figure phase-ps"),
    (["phase-ps", "--eta", "0.1"], "--eta is not a parameter of model cosine-simsiam"),
    (["phase-ps", "--rho", "-1"], "rho"),
    (["all", "--rho", "0.1"], "apply to one figure by name"),
])
def test_bad_figure_parameters_are_one_line(argv, msg, tmp_path, capsys):
    rc, out, err = _cli(["figure", *argv, "--out", str(tmp_path)], capsys)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("ssldyn: error: ") and msg in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["jing-fig3-trained", "ziyin-fig3"])
def test_trained_draw_returns_a_figure_on_given_axes(name, tmp_path, monkeypatch):
    """The trained reproductions' draw functions take ax= too (the two cheapest, reduced)."""
    pytest.importorskip("torch")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from figures.registry import TRAINED, TRAINED_PARTS

    monkeypatch.chdir(tmp_path)
    result = getattr(importlib.import_module(TRAINED[name][0]), TRAINED_PARTS[name][0])(fast=True)
    draw = importlib.import_module({"jing-fig3-trained": "figures.jing_fig3", "ziyin-fig3": "figures.ziyin_fig3"}[name]).draw
    own = draw(result)
    assert isinstance(own, Figure) and all(a.has_data() for a in own.axes)
    host, ax = plt.subplots()
    assert draw(result, ax=ax) is host and ax.has_data()
    plt.close("all")
    assert not list(tmp_path.iterdir())


def test_phase_line_at_the_users_parameters(tmp_path, capsys, captured):
    """``figure phase-lines --model l2-byol --eta 0.1``: one line, at the closed-form equilibria of
    Bao eq. 8 (tau = 1): p = 0 and p = (1 +- sqrt(1 - 4 (1 + sigma2) eta)) / (2 (1 + sigma2))."""
    rc, _, err = _cli(["figure", "phase-lines", "--model", "l2-byol", "--eta", "0.1", "--fast", "--out", str(tmp_path)],
                      capsys)
    assert rc == 0 and err == ""
    (ax,) = captured[0].axes
    dots = np.sort([ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_marker() == "o"])
    a = 1 + 0.5
    want = np.array([0.0, (1 - np.sqrt(1 - 4 * a * 0.1)) / (2 * a), (1 + np.sqrt(1 - 4 * a * 0.1)) / (2 * a)])
    np.testing.assert_allclose(dots, want, atol=1e-12)
    assert "eta=0.1" in ax.get_title(loc="left") and "Acute" in ax.get_title(loc="left")


def test_mark_takes_the_users_value_on_an_axis_it_does_not_name():
    """``--n-psi 3 --mark rho=0.01`` on the (rho, N_Psi) map: the point sits at N_Psi = 3, with the
    regime of those parameters (rho_c at T = 0 in closed form, Bao eq. 7)."""
    from dynamics.params import CosineParams
    from figures.regime_map import compute_regime_map, draw_regime_figure

    r = compute_regime_map(CosineParams(n_phi=20.0, trace=0.0, n_psi=3.0), fast=True, mark={"rho": 0.01})
    star = _star(draw_regime_figure(r).axes[0])
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0.01, 3.0)
    rho_c = 0.8 * 10 ** -0.25 / (1.5 * 20.0 * np.sqrt(3.0))        # 0.00866 < 0.01
    assert rho_c < 0.01 and "Collapse" in star.get_label()


@pytest.mark.parametrize("kw,msg", [({"span": (1.0,)}, "span must be two numbers"),        # drew [1, 5]: n as stop
                                    ({"span": (1.0, -1.0)}, "span must be two finite numbers lo < hi"),
                                    ({"span": (0.0, float("inf"))}, "span must be two finite numbers"),
                                    ({"n": 1}, r"n must be an integer in \[2, inf\)")])   # IndexError on drawing
def test_phase_grids_check_span_and_n(kw, msg):
    from dynamics.params import CosineParams
    from figures.phase import phase_line, rhs_curve
    from symbolic.errors import ParameterError

    params = CosineParams(rho=0.01)
    with pytest.raises(ParameterError, match=msg):
        rhs_curve(params, **{"n": 5, **kw})
    with pytest.raises(ParameterError, match=msg):
        phase_line("x", params, **{"n": 5, **kw})


def test_figure_keywords_name_the_parameter():
    """``jing_fig6(lam=0)`` failed with 't_end must be in (0, inf); got inf'; ``bao_fig5(h=0)`` drew empty
    histograms (NaN densities), ``d=2.5`` failed with a TypeError."""
    from figures.bao import compute_fig5
    from figures.jing import compute_fig6
    from symbolic.errors import ParameterError

    for lam in (0.0, -1.0):
        with pytest.raises(ParameterError, match=r"lam must be in \(0, inf\)"):
            compute_fig6(fast=True, lam=lam)
    for kw, name in (({"h": 0}, "h"), ({"d": 2.5}, "d"), ({"seed": -1}, "seed")):
        with pytest.raises(ParameterError, match=f"^{name} must be an integer"):
            compute_fig5(**kw)
