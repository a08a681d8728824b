r"""The configuration of a training run: :class:`TrainConfig`, its checks and the lr schedule.

Defaults are the official SimSiam recipe (Chen & He 2021): momentum SGD 0.9, learning rate
:math:`0.05\times\mathrm{batch}/256` with per-epoch cosine annealing, batch 512.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from symbolic.errors import ParameterError, check_choice, check_int, check_range

from ..io import require_cuda

MODES = ("linear", "resnet18")
LOSSES = ("cosine", "l2")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on (stored in checkpoints and the summary)."""

    mode: str = "linear"
    loss: str = "cosine"
    rho: float = 0.01              # weight decay, [0, inf)
    sigma2: float = 0.5            # Gaussian augmentation variance (linear), [0, inf)
    epochs: int = 60
    steps_per_epoch: int | None = None   # linear: None -> 100; resnet18: None -> one pass over the data, else a cap
    batch: int = 512
    lr: float | None = None        # None: 0.05 * batch / 256
    momentum: float = 0.9
    d: int = 512
    h: int = 512
    device: str = "cpu"
    data_dir: str | None = None
    seed: int = 0
    checkpoint_every: int = 0      # 0: only at the end / at stop_after
    resume: bool = False
    stop_after: int | None = None  # stop (with a checkpoint) after this many epochs in total
    early_every: int = 0           # also measure every k steps during the first epoch
    eval_size: int = 1024
    top: int = 8
    overlay: bool = True
    dump_rank_weights: bool = False
    compile: bool = False          # torch.compile the training module (CUDA throughput)

    @property
    def base_lr(self) -> float:
        return self.lr if self.lr is not None else 0.05 * self.batch / 256


def check_config(cfg: TrainConfig, world: int = 1) -> None:
    """Raise :class:`ParameterError` (one line) for an invalid configuration."""
    check_choice("mode", cfg.mode, MODES)
    check_choice("loss", cfg.loss, LOSSES)
    check_range("rho", cfg.rho, 0.0, math.inf)
    check_range("sigma2", cfg.sigma2, 0.0, math.inf)
    check_int("epochs", cfg.epochs, 1)
    if cfg.steps_per_epoch is not None:
        check_int("steps-per-epoch", cfg.steps_per_epoch, 1)
    check_int("batch", cfg.batch, 1)
    check_int("d", cfg.d, 1)
    check_int("h", cfg.h, 1)
    check_int("checkpoint-every", cfg.checkpoint_every, 0)
    check_int("eval-size", cfg.eval_size, 2)
    if cfg.lr is not None:
        check_range("lr", cfg.lr, 0.0, math.inf, lo_open=True)
    check_range("momentum", cfg.momentum, 0.0, 1.0, hi_open=True)
    if cfg.stop_after is not None:
        check_int("stop-after", cfg.stop_after, 1, cfg.epochs)
    check_choice("device", cfg.device, ("cpu", "cuda"))
    if cfg.batch % world:
        raise ParameterError(f"batch must be a multiple of the number of processes ({world}); got {cfg.batch}")
    if cfg.data_dir is not None and not os.path.isdir(cfg.data_dir):
        raise ParameterError(f"data-dir must be an existing directory; got {cfg.data_dir!r}")
    if cfg.data_dir is not None and cfg.mode != "resnet18":
        raise ParameterError(f"data-dir is only used by mode resnet18; got mode {cfg.mode!r}")
    if cfg.device == "cuda":
        require_cuda("device 'cuda'")


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    r"""Cosine annealing per epoch: :math:`\eta_e=\eta_0\,\tfrac12(1+\cos(\pi e/E))` (SimSiam)."""
    return cfg.base_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))

