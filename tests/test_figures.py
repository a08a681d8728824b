"""Figures: every registered figure writes non-empty PNG and PDF files; plotted equilibria are
the ones ``ssldyn equilibria`` prints."""
import json
import subprocess
import sys

import numpy as np
import pytest

from figures import bao
from figures.registry import FIGURES

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_files(name, tmp_path):
    import importlib

    mod, fn, _ = FIGURES[name]
    paths = getattr(importlib.import_module(mod), fn)(tmp_path, fast=True)
    pngs = [p for p in paths if p.suffix == ".png"]
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert pngs and pdfs
    for p in pngs:
        data = p.read_bytes()
        assert data[:8] == PNG and len(data) > 10_000          # a real picture, not an empty canvas
    for p in pdfs:
        assert p.read_bytes()[:5] == b"%PDF-"


def _cli_equilibria(params, model_flags):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "equilibria", *model_flags, "--json"],
                       capture_output=True, text=True, check=True)
    return np.array([e["p"] for e in json.loads(r.stdout)["equilibria"]])


def test_plotted_equilibria_equal_cli(tmp_path):
    bao.fig2(tmp_path, fast=True)
    for label, (params, plotted) in bao.fig2.last.items():
        flags = ["--model", "cosine-simsiam"] + sum(([f"--{k.replace('_', '-')}", repr(v)] for k, v in params.to_dict().items()), [])
        np.testing.assert_allclose(plotted, _cli_equilibria(params, flags), rtol=1e-14, atol=1e-15)
    bao.fig4(tmp_path, fast=True)
    for eta, (params, plotted) in bao.fig4.last.items():
        flags = ["--model", "l2-byol"] + sum(([f"--{k.replace('_', '-')}", repr(v)] for k, v in params.to_dict().items()), [])
        np.testing.assert_allclose(plotted, _cli_equilibria(params, flags), rtol=1e-14, atol=1e-15)


def test_fig3_fold_is_K_c(tmp_path):
    bao.fig3(tmp_path, fast=True)
    # K_c = -min_{p>0}(2p^5 + T p^2 - N_Psi^2 p) at T = 0.5, N_Psi = 1.5, by dense sampling
    p = np.linspace(1e-6, 2, 2_000_001)
    want = -np.min(2 * p**5 + 0.5 * p**2 - 2.25 * p)
    assert abs(bao.fig3.last["K_c"] - want) < 1e-9


def test_figure_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", "--list"], capture_output=True, text=True, check=True)
    assert all(name in r.stdout for name in FIGURES)
    r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", "no-such-figure", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "figure must be one of" in r.stderr and "Traceback" not in r.stderr


def test_jing_fig6_is_the_closed_form(tmp_path):
    from figures import jing

    jing.fig6(tmp_path, fast=True)
    t, sv = jing.fig6.last["t"], jing.fig6.last["sigma"]
    s0 = np.exp(-0.35 * np.arange(16))
    want = s0 / np.sqrt(1 - 2 * s0**2 * t[:, None])       # balanced mode: sigma^2 = s0^2 / (1 - 2 lam s0^2 t)
    np.testing.assert_allclose(sv, want, rtol=1e-7)
