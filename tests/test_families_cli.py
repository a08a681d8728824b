"""Bad input to the families' training checks (python -m sims.reproductions.families): one line, exit 2."""
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")


@pytest.mark.parametrize("args, match", [
    (["--only", "barlow", "--dim", "100"], "--dim (embedding modes) must be an integer in [1, 64]"),
    (["--only", "directset", "--alpha", "0"], "--alpha must be in (0, inf)"),
])
def test_bad_family_check_input_is_one_line(tmp_path, args, match):
    r = subprocess.run([sys.executable, "-m", "sims.reproductions.families", "--out", str(tmp_path / "o"), *args],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert match in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
