"""Session set-up of the test suite.

* **A kernel cache of the run.** ``SSLDYN_CACHE_DIR`` points at a fresh private folder made once
  per run by the controlling process and handed to every xdist worker, so no test reads or
  changes the developer's cache (``~/.cache/ssldyn``) and a run never depends on what an earlier
  one left. The workers share it safely: every entry is written to a temporary file and renamed
  (``symbolic/files.py``), carries an HMAC checked on every read (``symbolic/trust.py``), and a
  process that finds an entry missing or half-verified regenerates it; two workers compiling the
  same kernel at once both end with a valid one. The folder is removed at the end of the run.
  ``SSLDYN_TEST_CACHE_DIR=DIR`` keeps one folder across runs instead (a quicker local loop).
* **Warmed before the tests.** The controller compiles the kernels most tests use (equilibria and
  basins of the cosine and L2 models, the cosine flow with every method) in two processes side by
  side before the workers start, so that the workers do not compile the same kernels twice and
  the tests that wait on subprocesses (sweeps, Dask) do not wait on a compilation.
  ``SSLDYN_TEST_WARM=0`` skips it.
* **Tiers.** ``python -m pytest -m "not slow"`` is the quick tier; the full suite (README,
  ``.ci/run``) runs everything. ``slow`` marks tests measured at several seconds each
  (``--durations``), which the quick tier leaves to CI.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))   # tests/oracles.py

_CACHE_ENV = "SSLDYN_CACHE_DIR"
_OWN = "_ssldyn_test_cache_made"


def _shared_cache_dir(config) -> str:
    """The run's cache folder: the controller's (handed to workers in ``workerinput``), else a new one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "ssldyn_cache_dir" in workerinput:
        return workerinput["ssldyn_cache_dir"]
    keep = os.environ.get("SSLDYN_TEST_CACHE_DIR")
    if keep:
        os.makedirs(keep, mode=0o700, exist_ok=True)
        return keep
    path = tempfile.mkdtemp(prefix="ssldyn-test-cache-")    # mode 0700: the cache trust check wants it private
    setattr(config, _OWN, path)
    return path


#: what the warm-up runs, one process each (public API only)
_WARM = (
    "import dynamics as dy\n"
    "for params in (dy.CosineParams(), dy.L2Params()):\n"
    "    dy.find_equilibria(params)\n"
    "    dy.basins(params)\n",
    "import numpy as np\n"
    "import dynamics as dy\n"
    "from dynamics.integrate import METHODS\n"
    "for method in METHODS:\n"
    "    dy.integrate('cosine-simsiam', dy.CosineParams(), np.linspace(-1.0, 1.0, 3), t_end=1.0, method=method)\n",
)


def _warm(config) -> None:
    """Compile the common kernels into the run's cache (controller only; a failure is reported on
    the terminal and the tests compile what they need themselves)."""
    if getattr(config, "workerinput", None) is not None or config.option.collectonly:
        return
    if os.environ.get("SSLDYN_TEST_WARM", "1") == "0":
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
           "MPLBACKEND": "Agg"}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for code in _WARM]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            tail = (err.strip().splitlines() or ["?"])[-1]
            sys.stderr.write(f"conftest: warming the kernel cache failed ({tail}); tests compile on first use\n")


def pytest_configure(config):
    os.environ[_CACHE_ENV] = _shared_cache_dir(config)
    _warm(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist (controller): every worker uses the controller's cache folder."""
    node.workerinput["ssldyn_cache_dir"] = os.environ[_CACHE_ENV]


def pytest_unconfigure(config):
    made = getattr(config, _OWN, None)
    if made:
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture(autouse=True)
def _sigint_disposition_unchanged():
    """A test must leave SIGINT as it found it: an ignored SIGINT is inherited by every subprocess
    a later test starts (Python then never raises KeyboardInterrupt there)."""
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    if after is not before:
        signal.signal(signal.SIGINT, before)
        pytest.fail(f"the test left SIGINT as {after!r} (was {before!r})")
