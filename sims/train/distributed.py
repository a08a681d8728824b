"""The multi-process launchers of a training run: :func:`train_distributed` (``torchrun``) and
:func:`spawn_gloo` (CPU processes with the gloo backend, for tests).

Every rank runs :func:`sims.train.trainer.train` on its slice of the same global batch (see
:mod:`sims.train.trainer`).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict

from ._lazy import _torch
from .config import TrainConfig, check_config
from .trainer import train


def train_distributed(cfg: TrainConfig, out_dir: str | os.PathLike,
                      log: Callable[[str], object] | None = None) -> dict:
    """``train`` under torchrun: initialise the process group from the environment.

    With ``WORLD_SIZE`` > 1 in the environment (set by ``torchrun``) each process joins the group
    (NCCL on CUDA, gloo on CPU), trains its slice of every global batch under DDP and leaves the
    group at the end; otherwise this is :func:`~sims.train.trainer.train` in this process.
    ``ssldyn validate`` calls it: ``torchrun --nproc_per_node N -m sims.cli validate ...``.

    Parameters
    ----------
    cfg : TrainConfig
        The run; ``batch`` must be a multiple of ``WORLD_SIZE``.
    out_dir : str or os.PathLike
        The output folder (rank 0 writes ``metrics.jsonl`` and the checkpoints).
    log : callable, optional
        Called with one line per epoch (rank 0).

    Returns
    -------
    dict
        This rank's summary, as :func:`~sims.train.trainer.train` returns it (``world`` the number of
        processes).

    Raises
    ------
    ParameterError
        As :func:`~sims.train.trainer.train`, e.g. for a batch that is not a multiple of the number of
        processes.

    See Also
    --------
    sims.train.trainer.train : one process.
    spawn_gloo : a multi-process run on CPU without torchrun (tests).

    Examples
    --------
    Outside ``torchrun`` (no ``WORLD_SIZE``) the run is a single process:

    >>> import tempfile
    >>> from sims import TrainConfig, train_distributed
    >>> cfg = TrainConfig(d=4, h=4, epochs=1, steps_per_epoch=2, batch=8, eval_size=16, top=2, overlay=False)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = train_distributed(cfg, tmp)
    >>> summary["world"], len(summary["records"])
    (1, 2)

    Under ``torchrun`` every process runs the same call (it needs ``torch.distributed`` workers,
    so it is not run here):

    >>> summary = train_distributed(TrainConfig(batch=512), "run-dir")  # doctest: +SKIP
    """
    torch, _, _ = _torch()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return train(cfg, out_dir, log=log)
    import torch.distributed as dist

    check_config(cfg, world)
    dist.init_process_group("nccl" if cfg.device == "cuda" else "gloo")
    try:
        return train(cfg, out_dir, rank=dist.get_rank(), world=world, log=log)
    finally:
        dist.destroy_process_group()


def _spawn_entry(rank: int, world: int, init_file: str, cfg_dict: dict, out_dir: str):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        train(TrainConfig(**cfg_dict), out_dir, rank=rank, world=world)
    finally:
        dist.destroy_process_group()


def spawn_gloo(cfg: TrainConfig, out_dir, nprocs: int = 2) -> None:
    """Run ``cfg`` on ``nprocs`` CPU processes with the gloo backend (tests; no torchrun needed)."""
    import tempfile

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_spawn_entry, args=(nprocs, os.path.join(tmp, "pg"), asdict(cfg), str(out_dir)),
                 nprocs=nprocs, join=True)

