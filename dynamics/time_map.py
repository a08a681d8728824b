r"""From a training recipe to the ODE's time: what one unit of :math:`t` is in SGD steps.

Every flow of the package is a gradient flow :math:`\dot W=-\nabla L(W)` (Bao 2023 eq. 4;
Tian et al. 2021 eq. 11). Heavy-ball SGD with learning rate :math:`\eta_k` and momentum
:math:`\mu`,

.. math:: v_{k+1}=\mu v_k-\eta_k\nabla L(W_k),\qquad W_{k+1}=W_k+v_{k+1},

follows that flow in the small-step (heavy-ball) limit (Polyak 1964; Qian 1999, "On the momentum
term", eq. 9: the continuous limit of momentum SGD is gradient flow with the rate
:math:`\eta/(1-\mu)`), having covered after :math:`K` steps the time

.. math:: t_K=\sum_{k<K}\eta_k\,\frac{1-\mu^{K-k}}{1-\mu}\;\approx\;\sum_{k<K}\frac{\eta_k}{1-\mu},

the exact sum counting the momentum's warm-up (:func:`dynamics.sgd_mean_field.flow_time`; the
right-hand side is its :math:`K\to\infty` slope). So one unit of ODE time is
:math:`(1-\mu)/\eta` steps at a constant rate: with lr 0.05 and momentum 0.9, 2 steps.

BYOL's target (Grill et al. 2020, eq. 1) is an exponential moving average, per step
:math:`W_a\leftarrow mW_a+(1-m)W`. Over one step the ODE time advances by
:math:`\Delta t_k=\eta_k/(1-\mu)` and, with :math:`W` held fixed, the gap :math:`W_a-W` is
multiplied by :math:`m`. The flow :math:`\dot W_a=\beta(W-W_a)` (Tian et al. 2021 eq. 11, the
eigen form's :math:`\beta`) multiplies it by :math:`e^{-\beta\Delta t}` over the same time, so

.. math:: \beta=\frac{-\ln m}{\Delta t}=\frac{-\ln m\,(1-\mu)}{\eta}
          \;=\;\frac{(1-m)(1-\mu)}{\eta}\,(1+O(1-m)),

exact for a fixed online network and first order in :math:`\Delta t` for a moving one
(checked against the iterated EMA in tests/test_cli_ux.py). BYOL's :math:`m=0.996` with
lr 0.05 and momentum 0.9 gives :math:`\beta\approx0.00802`.
"""
from __future__ import annotations

import math

from symbolic.errors import ParameterError, check_int, check_range

from .sgd_mean_field import epoch_lrs, flow_time

__all__ = ["ode_time", "constant_lr_time", "ema_beta", "epoch_lrs", "steps_per_unit"]

#: upper bound of --steps: far beyond any training run, keeps the per-step sum cheap
MAX_STEPS = 10**8


def _momentum(momentum) -> float:
    return check_range("momentum (--momentum)", momentum, 0.0, 1.0, hi_open=True)


def _lr(lr) -> float:
    return check_range("lr (--lr)", lr, 0.0, 1e6, lo_open=True, hi_open=False)


def ode_time(lrs, momentum: float) -> float:
    r""":math:`t_K`, the ODE time that heavy-ball SGD covers in the steps of rates ``lrs``
    (``flow_time(lrs, momentum)[-1]``, see the module docstring)."""
    return float(flow_time(lrs, _momentum(momentum))[-1])


def constant_lr_time(steps: int, lr: float, momentum: float) -> float:
    r"""ODE time of ``steps`` steps at the constant rate ``lr``: the closed form of the sum,
    :math:`t_K=\frac{\eta}{1-\mu}\left(K-\mu\frac{1-\mu^K}{1-\mu}\right)`.

    With :math:`u=1-\mu` and :math:`Ku\ge1/2` the closed form loses at most a digit; it is
    evaluated with :math:`1-\mu^K=-\mathrm{expm1}(K\,\mathrm{log1p}(-u))`. Below, where it
    cancels catastrophically (:math:`\mu=1-10^{-12}`, K = 100: 98% off), the alternating series
    :math:`t_K=\eta\sum_{i\ge1}(-1)^{i+1}\binom{K+1}{i+1}u^{i-1}` (from
    :math:`\sum_{j\le K}\binom ji=\binom{K+1}{i+1}`), whose terms shrink by
    :math:`Ku/(i+2)\le1/6`, is summed to rounding.

    Examples
    --------
    >>> from dynamics.time_map import constant_lr_time
    >>> round(constant_lr_time(100, 0.1, 0.999999999999), 6)     # 0.1 * 100 * 101 / 2
    505.0
    >>> round(constant_lr_time(1000, 0.05, 0.9), 6)                # 0.5 * (1000 - 9 (1 - 0.9**1000))
    495.5
    """
    k = check_int("steps (--steps)", steps, lo=1, hi=MAX_STEPS)
    lr, m = _lr(lr), _momentum(momentum)
    u = 1.0 - m
    if m == 0.0:
        return lr * k
    if k * u >= 0.5:
        return lr / u * (k + m * math.expm1(k * math.log1p(-u)) / u)
    term, total = k * (k + 1) / 2.0, 0.0          # binom(K+1, 2), then the ratio -(K-i) u / (i+2)
    for i in range(1, 200):
        total += term
        term *= -(k - i) * u / (i + 2)
        if abs(term) <= 1e-17 * abs(total):
            break
    return lr * total


def steps_per_unit(lr: float, momentum: float) -> float:
    r"""SGD steps per unit of ODE time at a constant rate, :math:`(1-\mu)/\eta`."""
    return (1.0 - _momentum(momentum)) / _lr(lr)


def ema_beta(ema_momentum: float, lr: float, momentum: float) -> float:
    r"""The flow's EMA rate :math:`\beta=-\ln m\,(1-\mu)/\eta` of a target updated per step as
    :math:`W_a\leftarrow mW_a+(1-m)W` (module docstring); :math:`m\in(0,1]` (1: a frozen target,
    :math:`\beta=0`)."""
    m = check_range("ema momentum (--ema-momentum)", ema_momentum, 0.0, 1.0, lo_open=True, hi_open=False)
    beta = -math.log(m) * (1.0 - _momentum(momentum)) / _lr(lr)
    if not math.isfinite(beta):
        raise ParameterError(f"--ema-momentum {ema_momentum!r} with --lr {lr!r} gives a non-finite beta")
    return beta + 0.0
