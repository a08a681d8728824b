"""sims.monitor: the hook for a user's own torch loop, against validate's records and closed forms.

The user loops here are plain PyTorch written out in this file (not the project's model classes):
the linear SimSiam of Bao 2023 Section 5.4 drawn from the same seeded generator in the same order
as ``sims.train`` draws it, so the two runs see the same numbers.
"""
import json
import math
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from symbolic.errors import ParameterError

torch = pytest.importorskip("torch")

from sims.monitor import DEFAULT_EVERY, CollapseWarning, Monitor, collapse_reading  # noqa: E402
from sims.train import TrainConfig, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: the numbers of a record compared with validate's (the theory's are nested under "theory")
NUMBERS = ("p", "s", "p_top", "s_top", "n_phi", "n_psi", "trace", "norm_w", "asymmetry", "commutator",
           "rankme", "std_l2", "effective_rank", "stable_rank", "cov_spectrum")
THEORY = ("critical_value", "p4", "equilibria", "rel_dist_p4_top")


class PlainSimSiam(torch.nn.Module):
    """Linear SimSiam as a user writes it: z = Phi x, prediction W z, symmetric loss with stop-gradient."""

    def __init__(self, d, h, gen, loss):
        super().__init__()
        self.phi = torch.nn.Parameter(torch.randn(h, d, generator=gen) / math.sqrt(d))
        A = torch.randn(h, h, generator=gen) / math.sqrt(h)
        self.w = torch.nn.Parameter(0.5 * (A + A.T))
        self.loss = loss

    def embed(self, x):
        return x @ self.phi.T

    def forward(self, x1, x2):
        z1, z2 = x1 @ self.phi.T, x2 @ self.phi.T
        p1, p2 = z1 @ self.w.T, z2 @ self.w.T
        z1, z2 = z1.detach(), z2.detach()
        if self.loss == "cosine":
            cos = torch.nn.functional.cosine_similarity
            return -0.5 * (cos(p1, z2, dim=1).mean() + cos(p2, z1, dim=1).mean())
        return 0.25 * (((p1 - z2) ** 2).sum(1).mean() + ((p2 - z1) ** 2).sum(1).mean())


def user_loop(cfg: TrainConfig, every: int, log=None, **kw):
    """``cfg``'s run as a plain loop with a Monitor every ``every`` steps; returns (monitor, records, model)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    model = PlainSimSiam(cfg.d, cfg.h, gen, cfg.loss)
    eval_gen = torch.Generator().manual_seed(cfg.seed + 10_007)      # validate's fixed evaluation batch
    x_eval = torch.randn(cfg.eval_size, cfg.d, generator=eval_gen)
    lr0 = cfg.lr if cfg.lr is not None else 0.05 * cfg.batch / 256
    opt = torch.optim.SGD(model.parameters(), lr=lr0, momentum=cfg.momentum, weight_decay=cfg.rho)
    mon = Monitor(head=model.w, phi=model.phi, loss=cfg.loss, rho=cfg.rho, sigma2=cfg.sigma2, every=every,
                  top=cfg.top, embed=model.embed, inputs=x_eval, log=log, **kw)
    records = [mon.step(0)]
    n = cfg.steps_per_epoch
    for epoch in range(cfg.epochs):
        for g in opt.param_groups:                                    # cosine annealing per epoch
            g["lr"] = lr0 * 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))
        for i in range(n):
            x = torch.randn(cfg.batch, cfg.d, generator=gen)
            s = math.sqrt(cfg.sigma2)
            x1 = x + s * torch.randn(cfg.batch, cfg.d, generator=gen)
            x2 = x + s * torch.randn(cfg.batch, cfg.d, generator=gen)
            loss = model(x1, x2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            records.append(mon.step(epoch * n + i + 1, loss=loss.item()))
    mon.close()
    return mon, [r for r in records if r is not None], model


def _tiny(**kw):
    base = dict(mode="linear", d=8, h=8, epochs=20, steps_per_epoch=10, batch=64, eval_size=256, top=8, seed=3)
    return TrainConfig(**{**base, **kw})


def _strict(line):
    def refuse(token):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(line, parse_constant=refuse)


# --- the acceptance: the same numbers as validate's records at the same steps -----------------------
def test_user_loop_logs_validates_numbers_at_the_same_steps(tmp_path):
    cfg = _tiny(loss="cosine", rho=0.05)
    val = train(cfg, tmp_path / "validate")["records"]
    mon, recs, model = user_loop(cfg, every=cfg.steps_per_epoch, log=tmp_path / "run.jsonl")
    logged = [_strict(x) for x in (tmp_path / "run.jsonl").read_text().splitlines()]
    # Collapse readings while the norms first grow (steps 30-80 with torch 2.13), then the lift: no warning
    collapse_steps = [r["step"] for r in recs if r["theory"]["regime"] == "Collapse"]
    assert len(collapse_steps) >= 3 and recs[-1]["theory"]["regime"] == "Acute"
    assert mon.warned_at is None
    assert [r["step"] for r in val] == [r["step"] for r in recs] == [r["step"] for r in logged] \
        == list(range(0, 201, 10))
    for v, r, g in zip(val, recs, logged):
        for k in NUMBERS:
            # 1e-10: the acceptance's tolerance (the same float32 weights reach both, so in fact equal)
            np.testing.assert_allclose(r[k], v[k], rtol=1e-10, atol=1e-12, err_msg=k)
            np.testing.assert_allclose(g[k], v[k], rtol=1e-10, atol=1e-12, err_msg=k)
        assert r["theory"]["regime"] == v["theory"]["regime"] == g["theory"]["regime"]
        assert r["theory"]["fates_top"] == v["theory"]["fates_top"]
        for k in THEORY:
            np.testing.assert_allclose(np.array(r["theory"][k], dtype=float), np.array(v["theory"][k], dtype=float),
                                       rtol=1e-10, atol=1e-12, err_msg=k)
    # the recorded end state against numpy on the final weights (oracle independent of sims.measure):
    W, Phi = model.w.detach().double().numpy(), model.phi.detach().double().numpy()
    p, U = np.linalg.eigh(0.5 * (W + W.T))
    last = recs[-1]
    # 1e-12: one float64 eigendecomposition / product of 8 x 8 matrices with O(1) entries
    np.testing.assert_allclose(last["p"], p, atol=1e-12)
    np.testing.assert_allclose(last["s"], [np.sum((Phi.T @ U[:, j]) ** 2) for j in range(8)], atol=1e-12)
    assert last["n_psi"] == pytest.approx(np.sqrt(np.sum((W @ Phi) ** 2)), rel=1e-12)
    assert last["trace"] == pytest.approx(np.trace(W @ Phi @ Phi.T), rel=1e-10, abs=1e-14)
    Z = (torch.randn(256, 8, generator=torch.Generator().manual_seed(cfg.seed + 10_007)).double().numpy()
         @ Phi.T)
    sv = np.linalg.svd(Z, compute_uv=False)
    q = sv / sv.sum() + 1e-7                                        # RankMe, Garrido et al. 2023 eq. 1
    # 1e-6: Z is formed here in float64 from the float32 batch; the monitor's Z is float32 (rounding 1e-7)
    assert last["rankme"] == pytest.approx(math.exp(-np.sum(q * np.log(q))), rel=1e-6)
    Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    assert last["std_l2"] == pytest.approx(np.mean(np.std(Zn, axis=0, ddof=1)), rel=1e-6)


def test_validate_measures_through_the_monitor(tmp_path, monkeypatch):
    """Trainer.measure is Monitor.measure: replacing the latter changes validate's records."""
    calls = []
    real = Monitor.measure

    def counting(self, *a, **kw):
        calls.append(self.every)
        return {**real(self, *a, **kw), "through_monitor": True}

    monkeypatch.setattr(Monitor, "measure", counting)
    recs = train(_tiny(epochs=2, steps_per_epoch=3), tmp_path)["records"]
    assert len(calls) == len(recs) == 3 and all(r["through_monitor"] for r in recs)


# --- the warning: an L2 run above eta_c and one below -------------------------------------------------
@pytest.mark.parametrize("rho, warns", [(0.25, True), (0.05, False)])
def test_warns_once_on_l2_above_critical_decay(tmp_path, rho, warns):
    sigma2 = 0.5
    eta_c = 1.0 / (4.0 * (1.0 + sigma2))        # Tian et al. 2021 eq. 16 at tau = 1: 1/6
    assert (rho > eta_c) is warns
    cfg = _tiny(loss="l2", rho=rho, sigma2=sigma2, lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mon, recs, _ = user_loop(cfg, every=10, log=tmp_path / "l2.jsonl")
    ours = [w for w in caught if issubclass(w.category, CollapseWarning)]
    logged = [_strict(x) for x in (tmp_path / "l2.jsonl").read_text().splitlines()]
    for r in recs:
        assert r["theory"]["critical_value"] == pytest.approx(eta_c, rel=1e-12)
        assert r["theory"]["regime"] == ("Collapse" if warns else "Acute")
    if warns:
        # patience 2: the first measurement after two falls of the top eigenvalue in a row (all readings
        # are Collapse, eta_c does not move), once
        top = [r["p_top"][0] for r in recs]
        first = next(recs[i]["step"] for i in range(2, len(recs)) if top[i] < top[i - 1] < top[i - 2])
        assert len(ours) == 1 and mon.warned_at == first < 200
        assert "heading to collapse" in str(ours[0].message) and "eta_c" in str(ours[0].message)
        assert [r["step"] for r in logged if "warning" in r] == [first]
        assert recs[-1]["p_top"][0] < 0.1 * recs[0]["p_top"][0]     # and the run did collapse
    else:
        assert ours == [] and mon.warned_at is None
        assert not any(r["heading_to_collapse"] for r in logged)
        assert all(any(r["theory"]["in_basin_top"]) for r in logged)


def test_a_lifted_cosine_run_is_not_warned_a_stuck_one_is():
    """A Collapse reading with a falling top eigenvalue is no warning while the norms shrink and
    the critical decay rises (the lift); with growing norms (rho_c falling) it is, at the third
    measurement (the first has no trend, patience 2)."""
    p, s = np.array([0.9, 0.5, 0.2]), np.array([1.2, 1.0, 0.8])

    def monitor(scales):
        it = iter(scales)
        state = {}

        def head():
            state["a"], state["b"] = next(it)
            return state["a"] * np.diag(p)

        return Monitor(head=head, phi=lambda: state["b"] * np.diag(s), loss="cosine", rho=0.1, sigma2=0.5,
                       every=1, top=3)

    lifted = monitor([(1.0, 1.0), (0.9, 0.9), (0.8, 0.8), (0.7, 0.6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        recs = [lifted.step(i) for i in range(4)]
    assert [r["theory"]["regime"] for r in recs] == ["Collapse", "Collapse", "Collapse", "Acute"]
    crit = [r["theory"]["critical_value"] for r in recs]
    assert crit == sorted(crit) and lifted.warned_at is None
    stuck = monitor([(1.0, 1.0), (0.97, 1.05), (0.94, 1.1), (0.91, 1.15)])
    with pytest.warns(CollapseWarning, match="rho_c = ") as caught:
        recs = [stuck.step(i) for i in range(4)]
    assert len(caught) == 1 and stuck.warned_at == 2
    assert [r["heading_to_collapse"] for r in recs] == [False, False, True, True]
    # the same reading with the top eigenvalue growing: the measurement contradicts it, no warning
    growing = monitor([(1.0, 1.0), (1.03, 1.05), (1.06, 1.1), (1.09, 1.15)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        assert [growing.step(i)["theory"]["regime"] for i in range(4)] == ["Collapse"] * 4


def test_collapse_reading():
    assert collapse_reading(None) is None and collapse_reading({"ok": False, "reason": "x"}) is None
    assert collapse_reading({"ok": True, "regime": "Collapse", "in_basin_top": [True]}) is True
    assert collapse_reading({"ok": True, "regime": "Acute", "in_basin_top": [False, False]}) is True
    assert collapse_reading({"ok": True, "regime": "Acute", "in_basin_top": [False, True]}) is False


# --- the log ---------------------------------------------------------------------------------------
def test_jsonl_is_strict_one_line_per_measurement(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("old line\n")
    W = np.array([[1.0, 0.0], [0.0, 0.0]])                # rank one: a zero norm after the first column
    mon = Monitor(head=lambda: W, phi=lambda: np.eye(2), loss="cosine", rho=0.01, sigma2=0.5, every=3, log=path)
    outs = np.vstack([np.eye(2), -np.eye(2)])
    got = [mon.step(i, outputs=outs, epoch=i / 3) for i in range(10)]
    mon.close()
    lines = path.read_text().splitlines()
    assert len(lines) == mon.records_written == 4               # steps 0, 3, 6, 9; the old content is gone
    recs = [_strict(x) for x in lines]
    assert [r["step"] for r in recs] == [0, 3, 6, 9] and recs[1]["epoch"] == 1.0
    assert [g["step"] for g in got if g is not None] == [0, 3, 6, 9]
    assert recs[0]["p"] == [0.0, 1.0] and recs[0]["rankme"] == pytest.approx(2.0, rel=1e-6)
    # appended, not rewritten, when asked
    again = Monitor(head=lambda: W, phi=lambda: np.eye(2), loss="cosine", rho=0.01, sigma2=0.5, every=3, log=path,
                    append=True)
    again.step(12)
    again.close()
    assert len(path.read_text().splitlines()) == 5


def test_torch_keeps_its_thread_count():
    """numba's OpenMP layer, started by the theory's kernels, must not change the user's torch threads."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        Monitor(**_args()).step(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_same_step_is_measured_once():
    mon = Monitor(head=lambda: np.eye(2), phi=lambda: np.eye(2), loss="l2", rho=0.0, sigma2=0.5, every=2)
    assert mon.due(0) and mon.step(0) is not None
    assert not mon.due(0) and mon.step(0) is None            # gradient accumulation: the same global step
    assert mon.step(1) is None and mon.step(2)["step"] == 2


class FakeWriter:
    def __init__(self):
        self.scalars, self.texts, self.closed = {}, [], False

    def add_scalar(self, tag, value, step):
        self.scalars[(tag, step)] = value

    def add_text(self, tag, text, step):
        self.texts.append((tag, text, step))

    def close(self):
        self.closed = True


def test_tensorboard_scalars_are_the_records():
    w = FakeWriter()
    shrink = iter(0.9 ** np.arange(3))
    mon = Monitor(head=lambda: next(shrink) * np.diag([0.6, 0.3]), phi=lambda: np.eye(2), loss="l2", rho=0.3,
                  sigma2=0.5, every=1, top=2, tensorboard=w)
    with pytest.warns(CollapseWarning):
        recs = [mon.step(i, outputs=np.vstack([np.eye(2), -np.eye(2)])) for i in range(3)]
    mon.close()
    assert not w.closed                                           # not ours to close
    for r in recs:
        assert w.scalars[("ssldyn/n_phi", r["step"])] == r["n_phi"]
        assert w.scalars[("ssldyn/p_top/0", r["step"])] == pytest.approx(0.6 * 0.9 ** r["step"], rel=1e-14)
        assert w.scalars[("ssldyn/rankme", r["step"])] == r["rankme"]
        assert w.scalars[("ssldyn/regime", r["step"])] == 0     # Collapse: eta 0.3 > 1/6
    assert [(t, s) for t, _, s in w.texts] == [("ssldyn/warning", 2)]


def test_real_summary_writer(tmp_path):
    pytest.importorskip("tensorboard")
    mon = Monitor(head=lambda: np.eye(2), phi=lambda: np.eye(2), loss="l2", rho=0.0, sigma2=0.5,
                  tensorboard=tmp_path / "tb")
    mon.step(0)
    mon.close()
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())


# --- bad input ----------------------------------------------------------------------------------------
def _args(**kw):
    return {"head": lambda: np.eye(2), "phi": lambda: np.eye(2), "loss": "cosine", "rho": 0.01, "sigma2": 0.5,
            **kw}


@pytest.mark.parametrize("kw, name", [
    ({"every": 0}, "every"), ({"every": 2.5}, "every"), ({"every": -3}, "every"),
    ({"loss": "mse"}, "loss"), ({"rho": -0.1}, "rho"), ({"sigma2": -1.0}, "sigma2"), ({"top": 0}, "top"),
    ({"patience": 0}, "patience"), ({"tensorboard": 3}, "tensorboard"), ({"head": None}, "head"),
    ({"inputs": np.zeros((2, 2))}, "embed"),
])
def test_bad_arguments_name_the_parameter(kw, name):
    with pytest.raises(ParameterError, match=rf"^{name} "):
        Monitor(**_args(**kw))


def test_log_must_be_a_regular_file(tmp_path):
    with pytest.raises(ParameterError, match=r"^log must be a regular file.*a directory"):
        Monitor(**_args(log=tmp_path))
    with pytest.raises(ParameterError, match=r"^log must be a regular file.*a character device"):
        Monitor(**_args(log="/dev/null"))
    os.symlink(tmp_path / "target.jsonl", tmp_path / "link.jsonl")
    with pytest.raises(ParameterError, match=r"^log must be a regular file.*a symbolic link"):
        Monitor(**_args(log=tmp_path / "link.jsonl"))
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ParameterError, match=r"^log must be a regular file.*a FIFO"):
        Monitor(**_args(log=tmp_path / "fifo"))
    with pytest.raises(ParameterError, match=r"^log must be in an existing folder"):
        Monitor(**_args(log=tmp_path / "missing" / "m.jsonl"))
    # a path that became a directory after the check is refused when the log is first written
    late = tmp_path / "late.jsonl"
    mon = Monitor(**_args(log=late))
    late.mkdir()
    with pytest.raises(ParameterError, match="log"):
        mon.step(0)


def test_attribute_names_need_the_model():
    mon = Monitor(**_args(head="w", phi="phi"))
    with pytest.raises(ParameterError, match=r"^head .*mon.step\(step, model\)"):
        mon.step(0)
    model = types.SimpleNamespace(w=torch.eye(3), phi=torch.nn.Linear(3, 3, bias=False))
    rec = mon.step(0, model)
    assert rec["p"] == [1.0, 1.0, 1.0]
    assert rec["n_phi"] == pytest.approx(float(torch.linalg.norm(model.phi.weight.detach())), rel=1e-7)
    with pytest.raises(ParameterError, match=r"^head must name an attribute"):
        Monitor(**_args(head="missing")).step(0, model)
    with pytest.raises(ParameterError, match=r"^embed must name a method"):
        Monitor(**_args(embed="embed", inputs=torch.zeros(4, 2))).step(0)
    with pytest.raises(ParameterError, match=r"^head must be a square \(h, h\) matrix; got shape \(2, 3\)"):
        Monitor(**_args(head=lambda: np.zeros((2, 3)))).step(0)
    with pytest.raises(ParameterError, match=r"^phi must be an \(h, d\) matrix .* h = 2 rows; got shape \(3, 2\)"):
        Monitor(**_args(phi=lambda: np.zeros((3, 2)))).step(0)


# --- optional pieces -------------------------------------------------------------------------------------
def test_import_does_not_need_torch():
    code = ("import sys; sys.modules['torch'] = None; import sims.monitor as m; "
            "print(m.DEFAULT_EVERY, 'torch' in sys.modules and sys.modules['torch'] is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    assert out == [str(DEFAULT_EVERY), "False"]


class FakeTrainer:
    """What the callback reads of a Lightning Trainer."""

    def __init__(self, writer=None):
        self.global_step, self.is_global_zero = 0, True
        self.logger = types.SimpleNamespace(experiment=writer)


def _fake_lightning(monkeypatch):
    import sims.monitor as sm

    base = type("Callback", (), {})
    pkg, sub = types.ModuleType("lightning"), types.ModuleType("lightning.pytorch")
    sub.Callback, pkg.pytorch = base, sub
    monkeypatch.setitem(sys.modules, "lightning", pkg)
    monkeypatch.setitem(sys.modules, "lightning.pytorch", sub)
    monkeypatch.delitem(vars(sm), "MonitorCallback", raising=False)
    return base


def test_lightning_callback_with_a_fake_trainer(monkeypatch):
    base = _fake_lightning(monkeypatch)
    import sims.monitor as sm

    cls = sm.MonitorCallback
    assert issubclass(cls, base) and cls.__name__ == "MonitorCallback"
    module = types.SimpleNamespace(head=torch.nn.Linear(3, 3, bias=False), proj=torch.eye(3), training=True)
    writer = FakeWriter()
    cb = cls(head="head", phi="proj", loss="l2", rho=0.3, sigma2=0.5, every=2, top=3)
    tr = FakeTrainer(writer)
    cb.on_train_start(tr, module)
    for batch_idx in range(6):                      # accumulate 2 batches per optimiser step
        tr.global_step = (batch_idx + 1) // 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CollapseWarning)
            cb.on_train_batch_end(tr, module, None, None, batch_idx)
    cb.on_train_end(tr, module)
    steps = sorted({s for (tag, s) in writer.scalars if tag == "ssldyn/n_phi"})
    assert steps == [0, 2]                        # once per global step, every 2 steps
    W = module.head.weight.detach().double().numpy()
    assert writer.scalars[("ssldyn/p_top/0", 2)] == pytest.approx(np.linalg.eigvalsh((W + W.T) / 2)[-1], abs=1e-12)
    with pytest.raises(ParameterError, match="not both"):
        cls(Monitor(**_args()), every=3)


def test_lightning_callback_without_lightning(monkeypatch):
    import sims.monitor as sm

    monkeypatch.setitem(sys.modules, "lightning", None)
    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)
    monkeypatch.setitem(sys.modules, "pytorch_lightning", None)
    monkeypatch.delitem(vars(sm), "MonitorCallback", raising=False)
    with pytest.raises(ImportError, match=r"ssldyn\[lightning\]"):
        sm.MonitorCallback  # noqa: B018
    with pytest.raises(AttributeError, match="no_such"):
        sm.no_such  # noqa: B018


def test_real_lightning_callback(tmp_path):
    pl = pytest.importorskip("lightning.pytorch")
    from sims.monitor import MonitorCallback

    class Lit(pl.LightningModule):
        def __init__(self):
            super().__init__()
            g = torch.Generator().manual_seed(0)
            self.net = PlainSimSiam(4, 4, g, "l2")

        def training_step(self, batch, batch_idx):
            x = batch[0]
            return self.net(x + 0.5 * torch.randn_like(x), x + 0.5 * torch.randn_like(x))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05, weight_decay=0.01)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 4)), batch_size=16)
    cb = MonitorCallback(head="net.w", phi="net.phi", loss="l2", rho=0.01, sigma2=0.25, every=2,
                         log=tmp_path / "m.jsonl")
    pl.Trainer(max_steps=6, callbacks=[cb], logger=False, enable_checkpointing=False,
               default_root_dir=tmp_path, enable_progress_bar=False).fit(Lit(), data)
    steps = [_strict(x)["step"] for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert steps == [0, 2, 4, 6]


def test_docstring_examples_run():
    import doctest

    import sims.measure
    import sims.monitor

    for obj in (sims.monitor.Monitor, sims.measure.state_record, sims.measure.effective_sigma2):
        finder = doctest.DocTestFinder(recurse=False)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for t in finder.find(obj, obj.__name__, globs={}):
            runner.run(t)
        assert runner.summarize(verbose=False).failed == 0, obj.__name__
