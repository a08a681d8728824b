r"""One training run: :class:`Trainer` (model, optimiser, data, measurements), its checkpoints and
:func:`train` (the epoch loop writing ``metrics.jsonl``); the multi-process launchers are in
:mod:`sims.train.distributed`.

Weight decay :math:`\rho` goes through SGD's ``weight_decay`` (the gradient of
:math:`\tfrac\rho2\|\cdot\|_F^2`, Bao eq. 3); bf16 autocast on CUDA for ``resnet18``.

Multi-process: launched by ``torchrun`` (``WORLD_SIZE`` in the environment) the run uses DDP
(NCCL on CUDA, gloo on CPU). Every rank draws the same *global* batch from the same generator
and trains on its slice, so a run on k processes follows the single-process run on the same
global batch (up to float summation order).
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from ._lazy import _torch
from .augment import N_AUG, augment, normalise
from .checkpoints import _save_torch, _truncate_metrics, load_checkpoint_file
from .config import TrainConfig, check_config, lr_at
from .data import linear_batch, load_images
from .models import build_model


def gpu_utilisation(device):
    """GPU utilisation (percent) now: ``torch.cuda.utilization`` (pynvml), else ``nvidia-smi``."""
    torch, _, _ = _torch()
    try:
        return float(torch.cuda.utilization(device))
    except Exception:
        pass
    import subprocess

    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                            "-i", str(device.index or 0)], capture_output=True, text=True, timeout=10)
        return float(r.stdout.strip().splitlines()[0])
    except Exception:
        return None



class Trainer:
    """One run: model, optimiser, generator, data and the per-epoch measurements (rank 0)."""

    def __init__(self, cfg: TrainConfig, out_dir, rank: int = 0, world: int = 1, log=None):
        torch, _, _ = _torch()
        self.cfg, self.rank, self.world = cfg, rank, world
        self.out = Path(out_dir)
        self.log = log or (lambda msg: None)
        if cfg.device == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(self.device)
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = False   # measurements need fp32 matmuls (linear)
        else:
            self.device = torch.device("cpu")
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(cfg.seed)
        self.model = build_model(cfg, self.gen, self.device)
        self.images, self.data_name = None, None
        if cfg.mode == "resnet18":
            imgs, self.data_name = load_images(cfg.data_dir)
            self.images = torch.from_numpy(imgs).to(self.device)
            if world > 1 and self.device.type == "cuda":
                self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        else:
            self.data_name = f"Gaussian x ~ N(0, I_{cfg.d}), views x + N(0, {cfg.sigma2:g} I), fresh each step"
        self.ddp = self.model
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.ddp = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if cfg.compile:
            self.ddp = torch.compile(self.ddp)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.base_lr, momentum=cfg.momentum,
                                   weight_decay=cfg.rho)
        self.amp = cfg.mode == "resnet18" and self.device.type == "cuda"
        # a fixed evaluation batch from its own generator (does not disturb the training stream)
        eg = torch.Generator(device=self.device)
        eg.manual_seed(cfg.seed + 10_007)
        if cfg.mode == "linear":
            self.eval_x = torch.randn(cfg.eval_size, cfg.d, generator=eg, device=self.device)
        else:
            n = min(cfg.eval_size, self.images.shape[0])
            self.eval_idx = torch.randperm(self.images.shape[0], generator=eg, device=self.device)[:n]
            self.eval_r = torch.rand(2, n, N_AUG, generator=eg, device=self.device)
        # the measurements: the monitor a user attaches to their own loop, without schedule or warning
        from ..monitor import Monitor

        self.monitor = Monitor(head=self.model.w_matrix, phi=self.model.phi_matrix, loss=cfg.loss, rho=cfg.rho,
                               sigma2=cfg.sigma2, every=1, top=cfg.top, theory=cfg.overlay, warn=False)
        self.start_epoch = 0
        self.train_time = 0.0
        self.train_images = 0
        self.util = []

    # -- steps ----------------------------------------------------------------------------
    def steps_per_epoch(self) -> int:
        if self.cfg.mode == "linear":
            return self.cfg.steps_per_epoch or 100
        full = max(1, self.images.shape[0] // self.cfg.batch)
        return min(full, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch else full

    def _local(self, t):
        b = t.shape[0] // self.world
        return t[self.rank * b:(self.rank + 1) * b]

    def _step_inputs(self, step, perm):
        torch, _, _ = _torch()
        cfg = self.cfg
        if cfg.mode == "linear":
            x1, x2 = linear_batch(self.gen, cfg.batch, cfg.d, cfg.sigma2, self.device)
            return self._local(x1), self._local(x2)
        idx = self._local(perm[step * cfg.batch:(step + 1) * cfg.batch])
        r = torch.rand(2, cfg.batch, N_AUG, generator=self.gen, device=self.device)
        x = self.images[idx]
        x1, x2 = augment(x, self._local(r[0])), augment(x, self._local(r[1]))
        if self.device.type == "cuda":
            x1 = x1.contiguous(memory_format=torch.channels_last)
            x2 = x2.contiguous(memory_format=torch.channels_last)
        return x1, x2

    def train_epoch(self, epoch: int, on_early=None) -> float:
        torch, _, _ = _torch()
        for g in self.opt.param_groups:
            g["lr"] = lr_at(self.cfg, epoch)
        self.ddp.train()
        perm = None
        if self.cfg.mode == "resnet18":
            perm = torch.randperm(self.images.shape[0], generator=self.gen, device=self.device)
        n = self.steps_per_epoch()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        paused = 0.0
        loss = torch.zeros((), device=self.device)
        for step in range(n):
            x1, x2 = self._step_inputs(step, perm)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                loss = self.ddp(x1, x2)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if on_early is not None and self.cfg.early_every and epoch == 0 and (step + 1) % self.cfg.early_every == 0 \
                    and step + 1 < n:
                ta = time.perf_counter()
                on_early(step + 1, n)
                paused += time.perf_counter() - ta
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            u = gpu_utilisation(self.device)
            if u is not None:
                self.util.append(u)
        dt = time.perf_counter() - t0 - paused
        if epoch > self.start_epoch or self.cfg.epochs - self.start_epoch == 1:   # first epoch is warm-up
            self.train_time += dt
            self.train_images += n * self.cfg.batch
        return float(loss.detach())

    # -- measurements ---------------------------------------------------------------------
    def measure(self) -> dict:
        r"""The record of the current state: :meth:`sims.monitor.Monitor.measure` on the model's
        :math:`W`, :math:`\Phi` and its outputs on the fixed evaluation batch (for resnet18 with
        the effective :math:`\sigma^2` of two augmented views, ``sigma2_eff``)."""
        torch, _, _ = _torch()
        from ..measure import effective_sigma2

        m = self.model
        sigma2 = self.cfg.sigma2
        was_training = m.training
        m.eval()
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            if self.cfg.mode == "linear":
                Z = m.embed(self.eval_x)
            else:
                x = self.images[self.eval_idx]
                Z = m.embed(normalise(x))
                f1 = m.features(augment(x, self.eval_r[0])).double()
                f2 = m.features(augment(x, self.eval_r[1])).double()
                sigma2 = effective_sigma2(f1, f2)
        m.train(was_training)
        # without a positive correlation of the views there is no sigma^2, and no theory
        rec = self.monitor.measure(outputs=Z, sigma2=sigma2, theory=None if sigma2 is not None else False)
        if self.cfg.mode != "linear":
            rec["sigma2_eff"] = sigma2
        return rec

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def save_checkpoint(self, epoch: int) -> None:
        torch, _, _ = _torch()
        if self.rank != 0:
            return
        state = {"epoch": epoch, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                 "gen": self.gen.get_state(), "config": asdict(self.cfg), "train_time": self.train_time,
                 "train_images": self.train_images}
        _save_torch(state, self.checkpoint_path())

    def load_checkpoint(self) -> int:
        path = self.checkpoint_path()
        if not path.exists():
            raise ParameterError(f"resume needs a checkpoint in --out; none at {str(path)!r}")
        state = load_checkpoint_file(path, self.device)
        old = state["config"]
        for k in ("mode", "loss", "rho", "sigma2", "batch", "d", "h", "epochs", "seed", "lr", "momentum",
                  "steps_per_epoch"):
            if k not in old:
                raise ParameterError(f"the checkpoint has no {k} to compare with; it cannot be resumed")
            if old[k] != getattr(self.cfg, k):
                raise ParameterError(f"{k.replace('_', '-')} must match the checkpoint ({old[k]!r}) to resume; "
                                     f"got {getattr(self.cfg, k)!r}")
        try:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["opt"])
            self.gen.set_state(state["gen"].to("cpu"))
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ParameterError(f"resume needs a checkpoint of this model; {str(path)!r} does not fit ({first})") from None
        self.train_time, self.train_images = state["train_time"], state["train_images"]
        self.start_epoch = int(state["epoch"])
        return self.start_epoch


def train(cfg: TrainConfig, out_dir: str | os.PathLike, rank: int = 0, world: int = 1,
          log: Callable[[str], object] | None = None) -> dict:
    """Run (or resume) training, writing ``metrics.jsonl`` (rank 0) and checkpoints.

    Returns ``{"records", "data", "images_per_s", "gpu_utilisation", "stopped_early", "diverged",
    "epochs_done", "world"}``. Exported as ``sims.train_simsiam``.

    Rank 0 measures the state before training (epoch 0) and after every epoch (and every
    ``early_every`` steps of the first) and appends each record to ``metrics.jsonl``. A loss or a
    state that is not finite stops the run (``diverged``).

    Parameters
    ----------
    cfg : TrainConfig
        The run (checked first: :func:`~sims.train.config.check_config`).
    out_dir : str or os.PathLike
        The output folder (created if missing): ``metrics.jsonl``, ``checkpoint.pt``.
    rank, world : int, optional
        This process's rank and the number of processes of an initialised ``torch.distributed``
        group (:func:`~sims.train.distributed.train_distributed` sets them); 0 and 1 for a single
        process.
    log : callable, optional
        Called with one line per epoch (loss, norms, regime).

    Returns
    -------
    dict
        ``records`` (the measurement dicts written to ``metrics.jsonl``: ``epoch``, ``step``,
        ``lr``, ``loss``, the norms and spectrum of ``sims.measure.matrix_metrics``, the collapse
        diagnostics of :func:`~sims.diagnostics.collapse_diagnostics` and, with ``cfg.overlay``,
        ``theory``), ``data`` (what was trained on), ``images_per_s`` and ``gpu_utilisation``
        (``None`` when not measured), ``stopped_early``, ``diverged``, ``epochs_done``, ``world``.

    Raises
    ------
    ParameterError
        For an invalid ``cfg`` (before anything is written), or with ``resume`` when there is no
        checkpoint or it does not match ``cfg``.

    See Also
    --------
    sims.train.distributed.train_distributed : the same under ``torchrun``.

    Examples
    --------
    A tiny linear run, 2 epochs of 3 steps: a record before training and one after each epoch:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sims import TrainConfig, train_simsiam
    >>> cfg = TrainConfig(mode="linear", d=4, h=4, epochs=2, steps_per_epoch=3, batch=16, eval_size=32, top=2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = train_simsiam(cfg, tmp)
    ...     files = sorted(p.name for p in Path(tmp).iterdir())
    >>> files, summary["epochs_done"], summary["diverged"], summary["world"]
    (['metrics.jsonl'], 2, False, 1)
    >>> [(r["epoch"], r["step"]) for r in summary["records"]], len(summary["records"][-1]["p_top"])
    ([(0, 0), (1, 3), (2, 6)], 2)
    >>> summary["data"]
    'Gaussian x ~ N(0, I_4), views x + N(0, 0.5 I), fresh each step'

    An invalid configuration is refused before anything is written:

    >>> train_simsiam(TrainConfig(rho=-1.0), "never-written")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: rho must be in [0, inf); got -1.0
    """
    torch, _, _ = _torch()
    check_config(cfg, world)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tr = Trainer(cfg, out, rank, world, log)
    metrics = out / "metrics.jsonl"
    records = []
    if cfg.resume:
        tr.load_checkpoint()
        if rank == 0:
            records = _truncate_metrics(metrics, tr.start_epoch)
    elif rank == 0:
        from symbolic.files import write_text

        write_text(metrics, "", name="metrics")
    fh = open(metrics, "a") if rank == 0 else None    # noqa: SIM115  (open for the whole run, closed in finally)

    def emit(rec):
        records.append(rec)
        fh.write(json.dumps(rec) + "\n")
        fh.flush()

    diverged = False
    if rank == 0 and tr.start_epoch == 0:
        emit({"epoch": 0, "step": 0, "lr": lr_at(cfg, 0), "loss": None, **tr.measure()})
    last = cfg.stop_after if cfg.stop_after is not None else cfg.epochs
    n_steps = tr.steps_per_epoch()
    epoch = tr.start_epoch
    for epoch in range(tr.start_epoch, last):
        def early(step, n, epoch=epoch):
            if rank == 0:
                emit({"epoch": epoch + step / n, "step": epoch * n + step, "lr": lr_at(cfg, epoch),
                      "loss": None, "early": True, **tr.measure()})
        loss = tr.train_epoch(epoch, early)
        finite = math.isfinite(loss)
        if rank == 0:
            rec = {"epoch": epoch + 1, "step": (epoch + 1) * n_steps, "lr": lr_at(cfg, epoch), "loss": loss,
                   **tr.measure()}
            emit(rec)
            finite = finite and rec["finite"]
            th = rec.get("theory") or {}
            nphi, npsi = (math.nan if rec[k] is None else rec[k] for k in ("n_phi", "n_psi"))
            tr.log(f"epoch {epoch + 1}/{cfg.epochs} loss {loss:.5g} N_Phi {nphi:.6g} "
                   f"N_Psi {npsi:.6g} regime {th.get('regime')}")
        if world > 1:
            flag = torch.tensor([1.0 if finite else 0.0], device=tr.device)
            torch.distributed.broadcast(flag, 0)
            finite = bool(flag.item())
        if not finite:
            diverged = True
            epoch += 1
            break
        if cfg.checkpoint_every and (epoch + 1) % cfg.checkpoint_every == 0:
            tr.save_checkpoint(epoch + 1)
    else:
        epoch = last
    if cfg.stop_after is not None and not diverged:
        tr.save_checkpoint(epoch)
    if fh is not None:
        fh.close()
    if cfg.dump_rank_weights:
        _save_torch({k: v.detach().cpu() for k, v in tr.model.state_dict().items()}, out / f"final_rank{rank}.pt")
    ips = tr.train_images / tr.train_time if tr.train_time > 0 else None
    util = float(np.mean(tr.util)) if tr.util else None
    return {"records": records, "data": tr.data_name, "images_per_s": ips, "gpu_utilisation": util,
            "stopped_early": cfg.stop_after is not None and cfg.stop_after < cfg.epochs,
            "diverged": diverged, "epochs_done": epoch, "world": world}
