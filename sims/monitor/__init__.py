r"""Where a training run stands against the theory, measured inside the user's own loop.

:class:`Monitor` is a hook for a plain PyTorch loop. Every ``every`` optimiser steps it measures
the linear head :math:`W` (:math:`h\times h`) and the linear map :math:`\Phi` into it
(:math:`h\times d`; the last layer of an encoder, as ``validate resnet18`` reads it):

* the eigenvalues :math:`p_j` of :math:`(W+W^\top)/2` and :math:`s_j=u_j^\top\Phi\Phi^\top u_j`,
  :math:`N_\Phi=\|\Phi\|_F`, :math:`N_\Psi=\|W\Phi\|_F`, :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`
  (:func:`sims.measure.matrix_metrics`);
* RankMe and the std of the l2-normalised outputs (:func:`sims.diagnostics.collapse_diagnostics`);
* the regime at the measured norms (Bao 2023 eq. 7 for the cosine loss, Tian et al. 2021 eq. 16
  for L2) and the predicted fate of the top modes (:func:`sims.overlay.overlay`),

through :func:`sims.measure.state_record`, the function behind ``validate``'s own records
(:meth:`sims.train.Trainer.measure` measures through a :class:`Monitor`), and logs each record as
one line of strict JSON (appended and flushed) and, when given a log folder or a writer, to
TensorBoard. It warns once (:class:`CollapseWarning`, and a ``warning`` entry in the record) when
the run is heading to collapse: at ``patience`` measurements in a row (each compared with the one
before it)

* the theory at the measured norms predicts collapse: the Collapse regime, :math:`\rho>\rho_c`, or
  no top mode in the converge basin;
* the largest measured eigenvalue :math:`p_j` fell since the previous measurement;
* and the critical decay :math:`\rho_c` did not rise.

The cosine loss's :math:`\rho_c` rises as weight decay shrinks the norms, which *lifts* a run that
starts in Collapse into the Acute regime (:doc:`/collapse`); a rising :math:`\rho_c` is that lift,
and a growing :math:`p_j` contradicts the reading (a narrow network's norms grow at first and
pull :math:`\rho_c` down for a few dozen steps): neither is warned about. The L2 loss's
:math:`\eta_c=1/(4(1+\sigma^2))` does not depend on the norms: above it every reading is Collapse,
and the warning comes once the top eigenvalue has fallen ``patience`` times in a row.

Cost: at the default ``every`` = :data:`DEFAULT_EVERY` = 200 steps a measurement costs 2.1 % of
the step time of ``validate linear``'s default model (d = h = 512, batch 512, evaluation batch
1024; one measurement = 4.1 steps) and 2.4 % at d = h = 64, on one torch thread of a busy CPU
(``benchmarks/bench_monitor.py``, ``benchmarks/results/monitor.json``; the worst of four runs was
5.9 %, a measurement of 11.7 steps, which at ``every`` = 100 would have exceeded 10 %).

With ``lightning`` (or ``pytorch_lightning``) installed, :class:`MonitorCallback` (defined on first
access) runs the same monitor as a Lightning callback. torch is imported only when a measurement
runs: ``import sims.monitor`` works without it.
"""
from __future__ import annotations

from .core import DEFAULT_EVERY, LIFT_RTOL, SCALARS, CollapseWarning, Monitor, collapse_reading

#: ``MonitorCallback`` is not listed: it exists only where Lightning imports
__all__ = ["DEFAULT_EVERY", "LIFT_RTOL", "SCALARS", "CollapseWarning", "Monitor", "collapse_reading"]


def __getattr__(name):
    if name == "MonitorCallback":          # defined only where Lightning imports
        from .lightning import _lightning_callback

        cls = _lightning_callback()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
