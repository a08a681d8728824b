"""sims.train as a package: small modules, the old import surface, no torch at import;
sims.io.versions / require_cuda, the one version helper and CUDA check of sims."""
import ast
import json
import math
import pathlib
import subprocess
import sys

import pytest

from symbolic.errors import ParameterError

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sims" / "train"

#: the names other modules, benchmarks and tests import from sims.train (grep of the tree)
USED = ("TrainConfig", "Trainer", "_cifar_pickles", "_truncate_metrics", "augment", "build_model",
        "check_config", "linear_batch", "load_checkpoint_file", "load_images", "lr_at", "main_command",
        "normalise", "simsiam_loss", "spawn_gloo", "summarize", "train", "train_distributed")


def test_package_modules_are_small_and_documented():
    files = sorted(PACKAGE.glob("*.py"))
    assert {f.stem for f in files} >= {"__init__", "config", "models", "data", "augment", "trainer", "summary"}
    long = {f.name: n for f in files if (n := len(f.read_text().splitlines())) >= 400}
    assert not long, long
    undocumented = [f.name for f in files if not ast.get_docstring(ast.parse(f.read_text()))]
    assert not undocumented, undocumented
    assert not (ROOT / "sims" / "train.py").exists()     # the package replaces the module


def test_old_import_surface_kept():
    import sims.train as t

    missing = [n for n in USED if not hasattr(t, n)]
    assert not missing, missing
    assert set(USED) <= set(t.__all__) and all(hasattr(t, n) for n in t.__all__)
    assert not hasattr(t, "config_fields")                 # dead code, removed


def test_config_is_frozen_and_round_trips():
    import dataclasses

    from sims.train import TrainConfig

    cfg = TrainConfig(mode="resnet18", h=64, lr=None, batch=1024)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rho = 0.5
    assert TrainConfig(**dataclasses.asdict(cfg)) == cfg   # as a checkpoint stores and spawn_gloo passes it
    assert cfg.base_lr == 0.05 * 1024 / 256                # SimSiam's linear scaling rule


_BLOCKED = r"""
import sys
sys.modules["torch"] = None                  # any 'import torch' now raises ImportError
import sims.train as t
from sims.io import require_cuda, versions
from symbolic.errors import ParameterError
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules if sys.modules[m] is not None)
cfg = t.TrainConfig(epochs=4, batch=256, lr=0.2)
t.check_config(cfg)
v = versions()
assert "torch" not in v and "gpu" not in v, v
try:
    require_cuda("--device cuda")
except ParameterError as e:
    msg = str(e)
else:
    raise SystemExit("require_cuda passed without torch")
print(repr((t.lr_at(cfg, 0), t.lr_at(cfg, 2), t.lr_at(cfg, 4), msg, sorted(v))))
"""


def test_import_without_torch():
    """``import sims.train``, the config checks and the schedule need no torch."""
    r = subprocess.run([sys.executable, "-c", _BLOCKED], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    lr0, lr_half, lr_end, msg, keys = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    # cosine annealing 0.2 * (1 + cos(pi e / 4)) / 2 at e = 0, 2, 4: 0.2, 0.1, 0
    assert lr0 == 0.2 and lr_half == pytest.approx(0.1, abs=1e-15) and lr_end == pytest.approx(0.0, abs=1e-15)
    assert msg == "--device cuda needs torch (pip install 'ssldyn[torch]'); it is not installed"
    assert keys == sorted(["ssldyn", "python", "numpy", "scipy", "sympy", "numba"])


def test_versions_match_the_installed_packages():
    import platform

    import numba
    import numpy
    import scipy
    import sympy

    from sims.io import versions

    v = versions()
    assert v["python"] == platform.python_version()
    assert (v["numpy"], v["scipy"], v["sympy"], v["numba"]) == (numpy.__version__, scipy.__version__,
                                                               sympy.__version__, numba.__version__)
    torch = pytest.importorskip("torch")
    assert v["torch"] == torch.__version__ and v["cuda"] == torch.version.cuda
    assert ("gpu" in v) == torch.cuda.is_available()


def test_require_cuda():
    torch = pytest.importorskip("torch")
    from sims.io import require_cuda

    if torch.cuda.is_available():
        assert require_cuda("--device cuda") is None
        return
    with pytest.raises(ParameterError) as e:
        require_cuda("device 'cuda'")
    assert str(e.value) == "device 'cuda' needs a GPU, but torch sees no CUDA device; use --device cpu"
    from sims.train import TrainConfig, check_config

    with pytest.raises(ParameterError, match="^device 'cuda' needs a GPU"):
        check_config(TrainConfig(device="cuda"))


def test_reproduction_numbers_record_versions(tmp_path):
    from sims.io import versions
    from sims.reproductions.report import save_numbers

    path = save_numbers(tmp_path, "demo", {"ok": True}, {"x": [1.0, math.nan]})
    doc = json.loads(path.read_text())
    assert doc == {"figure": "demo", "acceptance": {"ok": True}, "numbers": {"x": [1.0, None]},
                   "versions": versions()}
