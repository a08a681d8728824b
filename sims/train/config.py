r"""The configuration of a training run: :class:`TrainConfig`, its checks and the lr schedule.

Defaults are the official SimSiam recipe (Chen & He 2021): momentum SGD 0.9, learning rate
:math:`0.05\times\mathrm{batch}/256` with per-epoch cosine annealing, batch 512.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from dynamics.sgd_mean_field import LOSSES  # noqa: F401  (the losses the mean-field theory covers)
from symbolic.errors import ParameterError, check_choice, check_int, check_range

from ..io import require_cuda

MODES = ("linear", "resnet18")


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything a run depends on (stored in checkpoints and the summary).

    Frozen; the defaults are the official SimSiam recipe. Nothing is checked here:
    :func:`check_config` checks every field when a run starts (:func:`~sims.train.trainer.train`).

    Parameters
    ----------
    mode : {'linear', 'resnet18'}, optional
        ``linear``: the linear SimSiam of Bao 2023 (Section 5.4) on fresh Gaussian views;
        ``resnet18``: CIFAR-variant ResNet-18 on images (Appendix D.2).
    loss : {'cosine', 'l2'}, optional
        The symmetric negative-cosine loss (Bao eq. 2), or the symmetric squared distance of
        prediction and target (Bao eq. 1); stop-gradient on the targets (:mod:`sims.train.models`).
    rho : float, optional
        Weight decay :math:`\rho` (SGD's ``weight_decay``), in ``[0, inf)``.
    sigma2 : float, optional
        Gaussian augmentation variance :math:`\sigma^2` (linear), in ``[0, inf)``.
    epochs : int, optional
        Epochs of the cosine schedule, >= 1.
    steps_per_epoch : int or None, optional
        Optimiser steps per epoch: linear, ``None`` is 100; resnet18, ``None`` is one pass over
        the data, a number caps it.
    batch : int, optional
        The global batch size (a multiple of the number of processes).
    lr : float or None, optional
        The base learning rate, > 0; ``None``: :math:`0.05\times\mathrm{batch}/256` (``base_lr``).
    momentum : float, optional
        SGD momentum, in ``[0, 1)``.
    d : int, optional
        Input dimension (linear).
    h : int, optional
        Representation dimension: the head :math:`W` is ``h x h``, :math:`\Phi` maps into it
        (``h x d`` for linear).
    device : {'cpu', 'cuda'}, optional
        Where to train (``cuda`` needs a CUDA device).
    data_dir : str or None, optional
        resnet18 only: a folder with the CIFAR-10 python batches; ``None``: scikit-learn's digits.
    seed : int, optional
        Seed of the training and evaluation generators (initial weights, batches, augmentations).
    checkpoint_every : int, optional
        Write ``checkpoint.pt`` every k epochs; 0: only at ``stop_after``.
    resume : bool, optional
        Resume from the ``checkpoint.pt`` in the output folder (the recipe must match it).
    stop_after : int or None, optional
        Stop (with a checkpoint) after this many epochs in total, in ``[1, epochs]``.
    early_every : int, optional
        Also measure every k steps during the first epoch; 0: never.
    eval_size : int, optional
        Size of the fixed evaluation batch the measurements use, >= 2.
    top : int, optional
        How many leading eigenvalues each record keeps (``p_top``, ``s_top``).
    overlay : bool, optional
        Add the theory's prediction at the measured norms to each record (``theory``:
        :func:`sims.overlay.overlay`).
    dump_rank_weights : bool, optional
        Also write each rank's final weights, ``final_rankR.pt``.
    compile : bool, optional
        ``torch.compile`` the training module (CUDA throughput).

    Examples
    --------
    >>> from sims import TrainConfig
    >>> TrainConfig().base_lr, TrainConfig(batch=256).base_lr, TrainConfig(lr=0.2).base_lr
    (0.1, 0.05, 0.2)
    >>> cfg = TrainConfig(mode="linear", d=8, h=8, epochs=2)
    >>> cfg.mode, cfg.loss, cfg.batch, cfg.momentum
    ('linear', 'cosine', 512, 0.9)
    """

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
    checkpoint_every: int = 0      # 0: only at stop_after (none at the end)
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

