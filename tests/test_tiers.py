"""The test tiers and the run's own kernel cache (tests/conftest.py, pyproject.toml)."""
import os
import stat
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


def test_the_run_uses_its_own_private_kernel_cache():
    """Not the user's cache: a folder made for this run (or SSLDYN_TEST_CACHE_DIR), private."""
    from symbolic.models import cache_root

    here = os.environ["SSLDYN_CACHE_DIR"]
    assert Path(here) == cache_root()
    user = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ssldyn"
    assert Path(here).resolve() != user.resolve()
    mode = os.stat(here).st_mode
    assert stat.S_ISDIR(mode) and mode & 0o077 == 0, oct(mode)
    if "SSLDYN_TEST_CACHE_DIR" not in os.environ:
        assert Path(here).name.startswith("ssldyn-test-cache-")


def test_the_default_run_is_the_full_suite_and_slow_is_a_registered_marker():
    """`python -m pytest -q` (README, .ci/run) selects no marker; the quick tier is -m "not slow"."""
    cfg = _pytest_config()
    assert "-m" not in cfg["addopts"] and "--strict-markers" in cfg["addopts"]
    assert any(m.startswith("slow:") for m in cfg["markers"])
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in ln and not ln.startswith("#")]
    assert ci[-1].strip() == "python -m pytest -q"
    assert "-m " not in os.environ.get("PYTEST_ADDOPTS", "")


def test_slow_tests_are_marked_in_the_files_that_hold_them():
    """The measured slow tests keep their marks (the quick tier depends on it): the docs build,
    the shipped derivations' re-derivation and mypy at least."""
    marked = {f.name for f in (ROOT / "tests").glob("test_*.py") if "@pytest.mark.slow" in f.read_text()}
    assert {"test_docs_build.py", "test_tooling.py"} <= marked
