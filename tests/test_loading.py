"""Loading runs no code from the files it reads: CIFAR batches, checkpoints (torch)."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from symbolic.errors import ParameterError

torch = pytest.importorskip("torch")

from sims.train import TrainConfig, _cifar_pickles, load_checkpoint_file, train  # noqa: E402


class _Payload:
    """Pickles as a call of ``os.system`` (what a malicious data or checkpoint file holds)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _batch_dir(tmp_path, obj, protocol=4, name="data_batch_1"):
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir(exist_ok=True)
    with open(base / name, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return tmp_path


def test_payload_is_live(tmp_path):
    # the payload used below does run under plain pickle.load: the refusals are not vacuous
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps({b"data": _Payload(marker)}))
    assert marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_batches_read(tmp_path, protocol):
    rows = np.arange(3 * 3072, dtype=np.int64).reshape(3, 3072) % 253
    d = _batch_dir(tmp_path, {b"batch_label": b"training batch 1 of 5", b"labels": [3, 1, 4],
                              b"data": rows.astype(np.uint8), b"filenames": [b"a.png", b"b.png", b"c.png"]},
                   protocol)
    _batch_dir(tmp_path, {b"data": np.full((1, 3072), 7, np.uint8), b"labels": [0]}, protocol, "data_batch_2")
    out = _cifar_pickles(str(d))
    assert out.shape == (4, 32, 32, 3) and out.dtype == np.uint8
    # a CIFAR row is the R plane, then G, then B, each 32 x 32 row-major (the dataset's README)
    for i, r, c, ch in [(0, 0, 0, 0), (1, 3, 5, 2), (2, 31, 31, 1), (2, 17, 4, 0)]:
        assert out[i, r, c, ch] == rows[i, ch * 1024 + r * 32 + c]
    assert (out[3] == 7).all()                     # data_batch_2 follows data_batch_1


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_malicious_batch_refused(tmp_path, protocol):
    marker = tmp_path / "ran"
    d = _batch_dir(tmp_path, {b"data": _Payload(marker), b"labels": [0]}, protocol)
    with pytest.raises(ParameterError, match=r"data_batch_1.*(posix|os)\.system is not allowed"):
        _cifar_pickles(str(d))
    assert not marker.exists()


def test_cifar_object_array_and_garbage_refused(tmp_path):
    marker = tmp_path / "ran"
    d = _batch_dir(tmp_path, {b"data": np.array([_Payload(marker)], dtype=object), b"labels": [0]})
    with pytest.raises(ParameterError, match="object dtype"):
        _cifar_pickles(str(d))
    assert not marker.exists()
    (d / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(ParameterError, match="is not one"):
        _cifar_pickles(str(d))
    _batch_dir(tmp_path, {b"data": np.zeros((2, 10), np.float32)})
    with pytest.raises(ParameterError, match=r"no uint8 \(N, 3072\) array"):
        _cifar_pickles(str(d))


# --- checkpoints -----------------------------------------------------------------------------
def _tiny(**kw):
    base = dict(mode="linear", d=8, h=8, batch=16, epochs=4, steps_per_epoch=3, eval_size=32,
                overlay=False, rho=0.05)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(_tiny(stop_after=2), out)
    return out


def test_checkpoint_loads_without_code(stopped_run):
    state = load_checkpoint_file(stopped_run / "checkpoint.pt")        # weights_only=True
    assert state["epoch"] == 2 and state["config"]["d"] == 8 and state["config"]["lr"] is None
    assert state["gen"].dtype == torch.uint8                            # the generator state
    assert set(state["model"]) == {"phi", "w"} and state["model"]["phi"].shape == (8, 8)
    assert not list(stopped_run.glob("*.tmp"))


def _resume(out):
    return subprocess.run([sys.executable, "-m", "sims.cli", "validate", "linear", "--resume", "--d", "8",
                           "--h", "8", "--batch", "16", "--epochs", "4", "--steps-per-epoch", "3",
                           "--eval-size", "32", "--rho", "0.05", "--no-overlay", "--no-figures",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("damage", ["truncated", "zeros", "payload", "not-a-dict"])
def test_damaged_checkpoint_is_one_line_error(stopped_run, tmp_path, damage):
    good = (stopped_run / "checkpoint.pt").read_bytes()
    marker = tmp_path / "ran"
    path = tmp_path / "checkpoint.pt"
    if damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "zeros":
        path.write_bytes(good[:64] + bytes(len(good) - 64))
    elif damage == "payload":
        torch.save({"epoch": 2, "model": _Payload(marker)}, path)
    else:
        torch.save([1, 2, 3], path)
    with pytest.raises(ParameterError, match="checkpoint") as e:
        load_checkpoint_file(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)
    assert not marker.exists()
    if damage == "truncated":   # the CLI: exit 2, one line, no traceback
        (tmp_path / "metrics.jsonl").write_text("")
        r = _resume(tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ssldyn: error:") and "checkpoint" in lines[0], r.stderr
