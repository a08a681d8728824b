"""The project's habits, enforced by the test command: ruff and mypy clean (configured in
pyproject.toml), one dev dependency list, and the shipped derivations equal to a fresh
derivation (symbolic/shipped.py)."""
import configparser
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("symbolic", "dynamics", "sims", "figures")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _run(args, **kw):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900, **kw)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None and shutil.which("ruff") is None,
                    reason="ruff is not installed (pip install -e '.[dev]')")
def test_ruff_finds_nothing():
    """`ruff check` with the rule set of pyproject.toml over the whole tree."""
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else [shutil.which("ruff")]
    out = _run([*ruff, "check", "--no-cache", "--output-format", "concise", "."])
    assert out.returncode == 0, f"ruff check found:\n{out.stdout}{out.stderr}"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (pip install -e '.[dev]')")
def test_mypy_finds_nothing(tmp_path):
    """mypy over the four packages with pyproject.toml's (lenient) configuration."""
    out = _run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")])
    assert out.returncode == 0, f"mypy found:\n{out.stdout}{out.stderr}"


def test_mypy_and_coverage_cover_the_four_packages():
    cfg = _pyproject()["tool"]
    assert sorted(cfg["mypy"]["files"]) == sorted(PACKAGES)
    assert cfg["mypy"]["ignore_missing_imports"] is True
    assert sorted(cfg["coverage"]["run"]["source"]) == sorted(PACKAGES)


def _flatten(groups: dict, name: str) -> list:
    out = []
    for item in groups[name]:
        out += _flatten(groups, item["include-group"]) if isinstance(item, dict) else [item]
    return out


def test_dev_extra_is_the_dev_dependency_group():
    """`pip install -e '.[dev]'` (setup.cfg) and `--group dev` (pyproject.toml) install the same."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    extra = [ln.strip() for ln in cfg["options.extras_require"]["dev"].splitlines() if ln.strip()]
    group = _flatten(_pyproject()["dependency-groups"], "dev")
    assert sorted(extra) == sorted(group)
    names = {d.split(">")[0].split("[")[0].split("=")[0] for d in group}
    assert {"pytest", "pytest-xdist", "pytest-cov", "xarray", "ruff", "mypy"} <= names


def test_precommit_runs_the_linters_of_the_test_command():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff-check", "mypy"} <= hooks
    revs = {repo["repo"]: repo.get("rev") for repo in config["repos"]}
    assert all(rev for repo, rev in revs.items() if repo != "local"), revs


# ---- the shipped derivations (cold start) ----------------------------------------------------

def _stored() -> dict:
    from symbolic import shipped

    return json.loads(shipped.DATA.read_text())


def test_shipped_derivations_are_of_the_present_sources():
    """Stale data would be ignored at run time (a cold start derives again): regenerate it."""
    from symbolic import shipped

    stored = _stored()
    assert stored["sources"] == shipped.sources_hash(), (
        "symbolic/data/derivations.json was derived from other sources: run `python -m symbolic.ship_derivations`")
    assert sorted(stored["entries"]) == sorted(shipped.entry_key(*e) for e in shipped.builtin_entries())


@pytest.mark.slow
def test_shipped_derivations_equal_a_fresh_derivation():
    """Every entry against SymPy deriving it again now (``derive(..., use_cache=False)``)."""
    from symbolic import ship_derivations

    stored = {k: e["payload"] for k, e in _stored()["entries"].items()}
    fresh = ship_derivations.fresh_payloads()
    assert sorted(stored) == sorted(fresh)
    differ = [k for k in fresh if stored[k] != fresh[k]]
    assert not differ, f"shipped derivations differ from the derivation: {differ}; run `python -m symbolic.ship_derivations`"


def test_derive_serves_the_shipped_entry_and_it_equals_the_expression(monkeypatch, tmp_path):
    """With an empty cache, derive() returns the shipped reduced cosine flow; it is Bao eq. 7,
    checked against the paper's formula typed in tests/oracles.py at random points."""
    import numpy as np
    import sympy as sp
    from oracles import cosine_eq7

    from symbolic import models, shipped

    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "cache"))
    models.derive.cache_clear()
    calls = []
    real = shipped.payload
    monkeypatch.setattr(shipped, "payload", lambda *a: calls.append(a) or real(*a))
    d = models.derive("cosine-simsiam", "reduced")
    models.derive.cache_clear()
    assert calls == [("cosine-simsiam", "reduced", "frobenius")] and real(*calls[0]) is not None
    f = sp.lambdify([d.symbol(n) for n in ("p", *d.params)], d.rhs["p"])
    rng = np.random.default_rng(0)
    for p, rho, sigma2, n_phi, n_psi, trace in rng.uniform(0.1, 2.0, size=(20, 6)):
        assert f(p, rho, sigma2, n_phi, n_psi, trace) == pytest.approx(cosine_eq7(p, rho, sigma2, n_phi, n_psi, trace),
                                                                        rel=1e-12)


def test_damaged_or_stale_shipped_data_is_not_used(monkeypatch, tmp_path):
    from symbolic import shipped

    data = _stored()
    key = shipped.entry_key("l2-byol", "reduced", "frobenius")
    data["entries"][key]["payload"]["rhs"]["p"] = "Integer(0)"          # edited, hash not updated
    path = tmp_path / "derivations.json"
    path.write_text(json.dumps(data))
    monkeypatch.setattr(shipped, "DATA", path)
    shipped._read.cache_clear()
    try:
        assert shipped.payload("l2-byol", "reduced", "frobenius") is None
        assert shipped.payload("l2-byol", "eigen", "frobenius") is not None
        data["sources"] = "0" * 16                                         # derived from other sources
        path.write_text(json.dumps(data))
        shipped._read.cache_clear()
        assert shipped.payload("l2-byol", "eigen", "frobenius") is None
    finally:
        shipped._read.cache_clear()
