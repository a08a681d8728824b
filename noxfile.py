#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2024.3"]
# ///
"""Tasks: ``nox -s quick`` (the quick test tier), ``nox -s tests`` (the full suite, as CI),
``nox -s lint`` (ruff and mypy), ``nox -s docs``, ``nox -s shipped`` (regenerate the shipped
derivations), ``nox -s cold_start`` (the cold-start benchmark). Each runs in its own virtualenv; plain ``nox`` runs lint and quick."""
from __future__ import annotations

import nox

nox.needs_version = ">=2024.3"
nox.options.default_venv_backend = "uv|virtualenv"

TORCH = "torch==2.13.0"     # the CPU build CI pins (.ci/run)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy with the configuration in pyproject.toml."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session
def quick(session: nox.Session) -> None:
    """The quick tier: every test not marked slow (about 2 minutes on 2 cores)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", "-m", "not slow", *session.posargs)


@nox.session(default=False)
def tests(session: nox.Session) -> None:
    """The full suite as CI runs it (.ci/run), with the slowest tests and coverage reported."""
    session.install(TORCH)
    session.install("-e", ".[dev,torch,docs]")
    session.run("python", "-m", "pytest", "-q", "--durations=25", "--cov", "--cov-report=term", *session.posargs)


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """The documentation, warnings as errors, into docs/_build/html."""
    session.install("-e", ".[docs]")
    session.run("python", "-m", "sphinx", "-W", "-b", "html", "docs", "docs/_build/html")


@nox.session(default=False)
def shipped(session: nox.Session) -> None:
    """Re-derive the built-in models and rewrite symbolic/data/derivations.json."""
    session.install("-e", ".")
    session.run("python", "-m", "symbolic.ship_derivations")


@nox.session(default=False)
def cold_start(session: nox.Session) -> None:
    """CPU time of a first `ssldyn demo` (empty cache) and a warm `ssldyn equilibria`."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_cold_start.py", *session.posargs)


if __name__ == "__main__":
    nox.main()
