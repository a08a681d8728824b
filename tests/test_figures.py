"""Figures: every registered figure writes non-empty PNG and PDF files; plotted equilibria are
the ones ``ssldyn equilibria`` prints."""
import json
import subprocess
import sys

import numpy as np
import pytest

from figures import bao
from figures.registry import FIGURES, TRAINED

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def draw(tmp_path_factory):
    """Draw a registered figure (fast) once per test module; returns its paths."""
    import importlib

    out = tmp_path_factory.mktemp("figs")
    done = {}

    def _draw(name):
        if name not in done:
            mod, fn, _ = FIGURES[name]
            done[name] = getattr(importlib.import_module(mod), fn)(out, fast=True)
        return done[name]
    return _draw


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_files(name, draw):
    paths = draw(name)
    pngs = [p for p in paths if p.suffix == ".png"]
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert pngs and pdfs
    for p in pngs:
        data = p.read_bytes()
        assert data[:8] == PNG and len(data) > 10_000          # a real picture, not an empty canvas
    for p in pdfs:
        assert p.read_bytes()[:5] == b"%PDF-"


def _cli_equilibria(params, model_flags, subprocess_run=False):
    """Equilibria as ``ssldyn equilibria ... --json`` prints them (in-process through sims.cli.main,
    which is what the command runs; one case per test goes through a real subprocess)."""
    argv = ["equilibria", *model_flags, "--json"]
    if subprocess_run:
        out = subprocess.run([sys.executable, "-m", "sims.cli", *argv], capture_output=True, text=True, check=True).stdout
    else:
        import contextlib
        import io

        from sims.cli import main

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(argv) == 0
        out = buf.getvalue()
    return np.array([e["p"] for e in json.loads(out)["equilibria"]])


def test_plotted_equilibria_equal_cli():
    for n, (label, curve) in enumerate(bao.compute_fig2(fast=True).panels.items()):
        params, plotted = curve.params, curve.equilibria.p
        flags = ["--model", "cosine-simsiam"] + sum(([f"--{k.replace('_', '-')}", repr(v)] for k, v in params.to_dict().items()), [])
        np.testing.assert_allclose(plotted, _cli_equilibria(params, flags, subprocess_run=n == 0), rtol=1e-14, atol=1e-15)
    for curve in bao.compute_fig4(fast=True).curves:
        params, plotted = curve.params, curve.equilibria.p
        flags = ["--model", "l2-byol"] + sum(([f"--{k.replace('_', '-')}", repr(v)] for k, v in params.to_dict().items()), [])
        np.testing.assert_allclose(plotted, _cli_equilibria(params, flags), rtol=1e-14, atol=1e-15)


def test_phase_lines_and_fig7_equilibria_equal_cli():
    from figures import phase

    fig7 = bao.compute_fig7(fast=True)
    cases = [(r.params, r.equilibria.p) for r in phase.compute_phase_lines(fast=True).rows] + list(fig7.lines.values())
    assert len(cases) == 7
    for params, plotted in cases:
        flags = ["--model", params.MODEL] + sum(([f"--{k.replace('_', '-')}", repr(v)] for k, v in params.to_dict().items()), [])
        # the same float64 roots through the same code path: equal to rounding of the JSON print
        np.testing.assert_allclose(plotted, _cli_equilibria(params, flags), rtol=1e-14, atol=1e-15)
    # fig7: the roots lie on the line K, i.e. Q(p) = 2p^5 + T p^2 - N_Psi^2 p + K = 0 (theory notes eq. 7)
    for K, (params, roots) in fig7.lines.items():
        nz = roots[roots != 0]
        q = 2 * nz**5 + params.trace * nz**2 - params.n_psi**2 * nz + K
        assert np.all(np.abs(q) < 1e-6)      # the double root at K_c is found to ~sqrt(eps) only


def test_figure_all_reports_failures_and_continues(tmp_path, monkeypatch, capsys):
    import argparse

    import figures.registry as registry
    from sims.commands import figure

    monkeypatch.setattr(registry, "FIGURES", {"broken": ("figures.bao", "no_such_figure", "fails"),
                                              "bao-fig7": registry.FIGURES["bao-fig7"]})
    rc = figure.run(argparse.Namespace(name="all", out=str(tmp_path), list=False, fast=True))
    err = capsys.readouterr().err
    assert rc == 1 and "figure broken failed" in err and "1 figure(s) failed: broken" in err
    assert (tmp_path / "bao_fig7_roots.png").read_bytes()[:8] == PNG     # the other one still ran


def test_fig3_fold_is_K_c():
    # K_c = -min_{p>0}(2p^5 + T p^2 - N_Psi^2 p) at T = 0.5, N_Psi = 1.5, by dense sampling
    p = np.linspace(1e-6, 2, 2_000_001)
    want = -np.min(2 * p**5 + 0.5 * p**2 - 2.25 * p)
    assert abs(bao.compute_fig3(fast=True).K_c - want) < 1e-9


def test_figure_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", "--list"], capture_output=True, text=True, check=True)
    assert all(name in r.stdout for name in [*FIGURES, *TRAINED])
    r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", "no-such-figure", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "figure must be one of" in r.stderr and "Traceback" not in r.stderr


def test_jing_fig6_is_the_closed_form():
    from figures import jing

    r = jing.compute_fig6(fast=True)
    t, sv = r.t, r.sigma
    s0 = np.exp(-0.35 * np.arange(16))
    want = s0 / np.sqrt(1 - 2 * s0**2 * t[:, None])       # balanced mode: sigma^2 = s0^2 / (1 - 2 lam s0^2 t)
    np.testing.assert_allclose(sv, want, rtol=1e-7)


def test_phase_planes_plot_the_invariants():
    from figures import phase

    d = phase.compute_ps_plane(fast=True)
    t, p, s = d.t[:, None], d.ys[:, :, 0], d.ys[:, :, 1]
    p0, s0 = d.starts[:, 0], d.starts[:, 1]
    # Bao eq. 6: s - p^2 = e^{-2 rho t} (s0 - p0^2) exactly; the plotted curves approach the parabola
    want = np.exp(-2 * d.params.rho * t) * (s0 - p0**2)
    np.testing.assert_allclose(s - p**2, want, atol=1e-6)   # integrator rtol 1e-8 on O(1) states
    assert np.all(np.abs(s - p**2)[-1] < 0.01 * np.abs(s0 - p0**2) + 1e-6)
    d = phase.compute_two_layer_plane(fast=True)
    a, b = d.ys[:, :, 0], d.ys[:, :, 1]
    c0 = d.starts[:, 0] ** 2 - d.starts[:, 1] ** 2
    # Jing Thm. 3: sigma_1^2 - sigma_2^2 is conserved along the aligned flow (the drawn hyperbolas)
    np.testing.assert_allclose(a**2 - b**2, np.broadcast_to(c0, a.shape), atol=1e-6)


def test_all_is_the_theory_figures_and_trained_needs_torch(tmp_path, monkeypatch, capsys):
    """``all`` draws exactly the theory figures (no torch import); a trained target without torch
    is one clear error (exit 2), not a traceback."""
    import argparse

    import figures.registry as registry
    from sims.cli import main
    from sims.commands import figure

    assert not set(FIGURES) & set(TRAINED)
    drawn = []
    monkeypatch.setattr(registry, "FIGURES", {n: ("figures.bao", "fig7", "") for n in ("a", "b")})
    monkeypatch.setattr("figures.bao.fig7", lambda out, fast=False: drawn.append(out) or [])
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch now raises ImportError
    assert figure.run(argparse.Namespace(name="all", out=str(tmp_path), list=False, fast=True)) == 0
    assert len(drawn) == 2
    for name in ("trained", "ziyin-fig2"):
        assert main(["figure", name, "--out", str(tmp_path), "--fast"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "trains with torch, which is not installed" in err


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TRAINED))
def test_trained_figure_files_and_numbers(name, tmp_path):
    """Each training reproduction (reduced by ``fast``) draws PNG/PDF and writes strict JSON whose
    numbers are the ones its compute step returned (the full runs' acceptance lives in test_reproductions)."""
    pytest.importorskip("torch")
    import importlib

    from figures.registry import TRAINED_PARTS

    mod = importlib.import_module(TRAINED[name][0])
    compute, write = (getattr(mod, f) for f in TRAINED_PARTS[name])
    last = compute(fast=True)
    paths = write(last, tmp_path)
    assert {p.suffix for p in paths} == {".png", ".pdf", ".json"}
    for p in paths:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG and p.stat().st_size > 10_000
    doc = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert doc["numbers"]["fast"] is True and doc["acceptance"] and doc["versions"]["torch"]
    if name == "ziyin-fig2":
        np.testing.assert_array_equal(doc["numbers"]["left"]["measured"], last.left["measured"])
        assert doc["acceptance"]["weighted"][0]["k_predicted_collapsed"] == last.mid["runs"][0]["weighted-self"]["k"]
    elif name == "jing-fig56":
        assert doc["acceptance"]["aligned_ode_max_rel_err"] == last.ode["max_rel_err_ode"] < 1e-6
    elif name == "jing-fig11-trained":
        assert [s["collapsed"] for s in doc["numbers"]["sweeps"]] == [s["collapsed"].tolist() for s in last.sweeps]


def test_trained_device_checked_before_training(tmp_path, capsys):
    """--device names the problem in one line (exit 2) before any training starts."""
    torch = pytest.importorskip("torch")
    from sims.cli import main

    assert main(["figure", "jing-fig56", "--device", "tpu", "--out", str(tmp_path), "--fast"]) == 2
    assert "device must be one of cpu, cuda, cuda:N; got 'tpu'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["figure", "trained", "--device", "cuda", "--out", str(tmp_path), "--fast"]) == 2
        assert "torch sees no CUDA device" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                      # nothing was drawn
