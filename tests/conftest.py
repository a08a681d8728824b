"""Session set-up of the test suite.

* **A kernel cache of the run.** ``SSLDYN_CACHE_DIR`` points at a fresh private folder made once
  per run by the controlling process and handed to every xdist worker, so no test reads or
  changes the developer's cache (``~/.cache/ssldyn``) and a run never depends on what an earlier
  one left. The workers share it safely: every entry is written to a temporary file and renamed
  (``symbolic/files.py``), carries an HMAC checked on every read (``symbolic/trust.py``), and a
  process that finds an entry missing or half-verified regenerates it; two workers compiling the
  same kernel at once both end with a valid one. The folder is removed at the end of the run.
  ``SSLDYN_TEST_CACHE_DIR=DIR`` keeps one folder across runs instead (a quicker local loop).
* **Tiers.** ``python -m pytest -m "not slow"`` is the quick tier; the full suite (README,
  ``.ci/run``) runs everything. ``slow`` marks tests measured at several seconds each
  (``--durations``), which the quick tier leaves to CI.
"""
import os
import shutil
import signal
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


def pytest_configure(config):
    os.environ[_CACHE_ENV] = _shared_cache_dir(config)


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
