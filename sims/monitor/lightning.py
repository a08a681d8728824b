"""The Lightning callback of :class:`sims.monitor.Monitor`: its hooks (free of Lightning, so they
can be tested with a stand-in trainer) and the class, built on first use from the ``Callback`` of
``lightning.pytorch`` or ``pytorch_lightning``."""
from __future__ import annotations

from symbolic.errors import ParameterError

from .core import Monitor


class _CallbackHooks:
    """The Lightning hooks of :class:`MonitorCallback`, free of Lightning (tested with a fake trainer).

    Measures at ``trainer.global_step`` (optimiser steps done) on rank 0: before the first step
    (``on_train_start``) and after each batch; sends to the trainer's logger's TensorBoard
    writer when the monitor has none and the logger has one.
    """

    def __init__(self, monitor: Monitor | None = None, **kwargs):
        if monitor is not None and kwargs:
            raise ParameterError(f"give a Monitor or its arguments, not both; got monitor and {sorted(kwargs)}")
        self.monitor = monitor if monitor is not None else Monitor(**kwargs)

    def on_train_start(self, trainer, pl_module):
        exp = getattr(getattr(trainer, "logger", None), "experiment", None)
        if self.monitor.writer is None and hasattr(exp, "add_scalar"):
            self.monitor.writer = exp
        self._step(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._step(trainer, pl_module)

    def on_train_end(self, trainer, pl_module):
        self.monitor.close()

    def _step(self, trainer, pl_module):
        if getattr(trainer, "is_global_zero", True):
            self.monitor.step(int(trainer.global_step), pl_module)


def _lightning_callback():
    import importlib

    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            base = importlib.import_module(name).Callback
        except ImportError:
            continue
        return type("MonitorCallback", (_CallbackHooks, base), {
            "__doc__": "A :class:`Monitor` as a Lightning callback: ``Trainer(callbacks=[MonitorCallback("
                       "head='head', phi='projector', loss='cosine', rho=..., sigma2=...)])``; names are "
                       "looked up on the LightningModule.", "__module__": "sims.monitor"})
    raise ImportError("MonitorCallback needs lightning (pip install 'ssldyn[lightning]') or pytorch_lightning; "
                      "in a plain PyTorch loop use sims.monitor.Monitor")
