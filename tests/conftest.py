import os
import sys

sys.path.insert(0, os.path.dirname(__file__))   # tests/oracles.py

import signal  # noqa: E402

import pytest  # noqa: E402


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
