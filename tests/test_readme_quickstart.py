"""The README's Python quick start runs as written, and its numbers are checked against
independent sources (SymPy roots of the derived right-hand side, scipy's integrator, and the
critical decay as the maximum of g(p)/p found by a scalar optimiser). The README stays an entry
(at most 180 lines); its copies in the docs stay equal to it."""
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import minimize_scalar

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def quick_start() -> str:
    text = README.read_text()
    section = text.split("## Python quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the quick start is one python block"
    return blocks[0]


@pytest.fixture(scope="module")
def ns():
    code = quick_start()
    assert 8 <= len(code.strip().splitlines()) <= 20     # "about 10 lines"
    namespace = {"__name__": "__quickstart__"}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our own README
    yield namespace
    import matplotlib.pyplot as plt
    plt.close("all")


def _rhs(params):
    """Bao eq. 7 typed from the paper, independent of the generated kernels."""
    a = (1 + params.sigma2) * params.n_phi * params.n_psi**3
    return lambda p: p * p * (params.n_psi**2 - params.trace * p - 2 * p**4) / a - params.rho * p


def test_top_of_readme_keeps_the_two_setup_commands():
    head = README.read_text().split("## ", 1)[0]
    assert "pip install -e . && ssldyn demo" in head
    assert "python -m pytest -q" in head


def test_readme_is_an_entry_and_the_docs_copies_match_it():
    text = README.read_text()
    assert len(text.splitlines()) <= 180
    rst = (ROOT / "docs" / "getting_started.rst").read_text().split(".. code-block:: python\n\n", 1)[1]
    copy = []
    for line in rst.splitlines():
        if line and not line.startswith("   "):
            break
        copy.append(line[3:])
    assert "\n".join(copy).strip("\n") == quick_start().strip("\n"), "docs/getting_started.rst's copy of the quick start"
    start, end = "<!-- integrators-table:start -->", "<!-- integrators-table:end -->"
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table == (ROOT / "docs" / "engineering.md").read_text().split(start, 1)[1].split(end, 1)[0], (
        "regenerate both: python benchmarks/readme_table.py; python benchmarks/readme_table.py --readme docs/engineering.md")


def test_equilibria_are_the_roots_of_the_paper_equation(ns):
    params, eq = ns["params"], ns["eq"]
    p = sp.Symbol("p")
    f = _rhs(params)
    poly = sp.Poly(sp.nsimplify(sp.expand(f(p) * 1), rational=True), p)
    real = sorted(float(r) for r in sp.Poly(poly).nroots(n=30) if abs(sp.im(r)) < 1e-20)
    np.testing.assert_allclose(eq.p, real, atol=1e-12)
    assert eq.regime == "Acute"
    assert eq.stability == ("unstable", "stable", "unstable", "stable")


def test_critical_decay_is_the_maximum_of_g_over_p(ns):
    params, eq = ns["params"], ns["eq"]
    g_over_p = lambda x: -(_rhs(params)(x) + params.rho * x) / x   # noqa: E731
    best = minimize_scalar(g_over_p, bounds=(1e-6, 3.0), method="bounded", options={"xatol": 1e-12})
    assert eq.critical_value == pytest.approx(-best.fun, rel=1e-9)


def test_integrate_agrees_with_scipy_and_the_basins(ns):
    params, run = ns["params"], ns["run"]
    p0 = np.linspace(-1.5, 1.5, 7)
    f = _rhs(params)
    fates = dict(diverge=[], collapse=[], converge=[])
    for lo, hi, fate in ns["dy"].basins(params):
        fates[fate].append((lo, hi))
    for x0, xf, status in zip(p0, run.final, run.status):
        inside = [fate for fate, spans in fates.items() if any(lo < x0 < hi for lo, hi in spans)]
        if x0 == 0.0:
            assert xf == 0.0
            continue
        if inside == ["diverge"]:
            assert status == ns["dy"].Status.DIVERGED
            continue
        ref = solve_ivp(lambda t, y: f(y), (0.0, 500.0), [x0], method="DOP853", rtol=1e-12, atol=1e-14)
        assert status == ns["dy"].Status.SUCCESS
        assert xf == pytest.approx(ref.y[0, -1], rel=1e-6, abs=1e-9)
        assert inside == (["converge"] if abs(xf - ns["eq"].p[-1]) < 1e-6 else ["collapse"])


def test_regime_map_agrees_with_rho_versus_rho_c(ns):
    params, rmap = ns["params"], ns["rmap"]
    for i, n_psi in enumerate(rmap.y):
        q = ns["dy"].CosineParams(**{**params.to_dict(), "n_psi": float(n_psi)})
        g_over_p = lambda x: -(_rhs(q)(x) + q.rho * x) / x   # noqa: E731, B023
        rho_c = -minimize_scalar(g_over_p, bounds=(1e-6, 5.0), method="bounded", options={"xatol": 1e-12}).fun
        for j, rho in enumerate(rmap.x):
            if abs(rho - rho_c) < 1e-6 * rho_c:
                continue
            expected = "Stable" if rho == 0 else ("Collapse" if rho > rho_c else "Acute")
            assert ns["dy"].REGIMES[rmap.regime[i, j]] == expected, (rho, n_psi)


def test_figure_is_drawn_on_the_users_axes(ns):
    ax = ns["ax"]
    xs = np.asarray(max(ax.lines, key=lambda ln: len(ln.get_xdata())).get_xdata())   # the curve pdot(p)
    assert len(ax.lines) >= 2 and ax.get_xlabel()
    plotted = [ln.get_xdata()[0] for ln in ax.lines if len(ln.get_xdata()) == 1]
    np.testing.assert_allclose(sorted(plotted), [x for x in ns["eq"].p if xs.min() <= x <= xs.max()])
