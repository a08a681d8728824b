r"""DirectSet(alpha) / IsoLoss toy of Halvagal, Laborieux & Zenke (NeurIPS 2023, Fig. 2): trained with
torch (CPU, seeded) and compared with the derived eigenvalue flow of :mod:`symbolic.directset`.

Setting (the paper's toy): inputs :math:`x\sim\mathcal N(0,I_{15})` drawn fresh each step (``samples``
of them), views :math:`x_{1,2}=x+\sigma\epsilon_{1,2}`, :math:`\sigma=0.1`; :math:`W\in\mathbb R^{10\times15}`,
:math:`W(0)` Gaussian with variance 1/15; predictor :math:`W_P=(WW^\top)^\alpha` recomputed from the
current :math:`W` every step and held constant in the gradient; target :math:`\mathrm{sg}(W)`; plain gradient
descent, learning rate :math:`10^{-2}`, 1500 steps, torch ``weight_decay`` :math:`\eta` (default 0).
Losses: Euclidean :math:`\tfrac12\|W_Pz_1-\mathrm{sg}(z_2)\|^2` and IsoLoss
:math:`\tfrac12\|z_1-\mathrm{sg}(z_1+z_2-W_Pz_1)\|^2`, batch means.

Measured: the eigenvalues of :math:`WW^\top` at every step; theory: each eigenvalue integrated with the
derived flow (:func:`symbolic.directset.flow_lam`, scipy ``solve_ivp``, rtol 1e-10) from its measured
initial value, at :math:`t=\mathrm{lr}\times\mathrm{step}` (the flow is exact for any :math:`W(0)`, no alignment
needed). Also given: the same flow stepped by Euler at the training learning rate (the map gradient
descent follows), which separates the optimiser's discretisation from the model.
"""
from __future__ import annotations

import numpy as np

from symbolic import directset as ds
from symbolic.errors import ParameterError, check_int, check_range
from symbolic.directset import DirectSetParams

from ._torch import deterministic


def _predictor(W, alpha):
    lam, U = np.linalg.eigh(W @ W.T)
    return U @ np.diag(np.clip(lam, 0, None) ** alpha) @ U.T


def train(alpha, iso, *, in_dim=15, out_dim=10, sigma_aug=0.1, lr=1e-2, steps=1500, samples=4096, eta=0.0,
          seed=0) -> dict:
    """Train the toy; returns ``t`` (lr x step) and ``eig`` (eigenvalues of W W^T, ascending, per step)."""
    import torch

    DirectSetParams(alpha=alpha, eta=eta, iso=iso)          # alpha > 0, eta >= 0, iso in {0, 1}
    in_dim, out_dim = check_int("in_dim", in_dim, 1), check_int("out_dim", out_dim, 1)
    if out_dim > in_dim:
        raise ParameterError(f"out_dim (modes) must be an integer in [1, {in_dim}] (the input dimension); got {out_dim}")
    check_range("sigma_aug", sigma_aug, 0.0)
    check_range("lr", lr, 0.0, lo_open=True)
    steps, samples = check_int("steps", steps, 1), check_int("samples", samples, 2)
    with deterministic(seed) as g:
        W = (torch.randn(out_dim, in_dim, generator=g, dtype=torch.float64) / np.sqrt(in_dim)).requires_grad_()
        opt = torch.optim.SGD([W], lr=lr, weight_decay=eta)
        eigs = [np.linalg.eigvalsh((W @ W.T).detach().numpy())]
        for _ in range(steps):
            x = torch.randn(samples, in_dim, generator=g, dtype=torch.float64)
            x1 = x + sigma_aug * torch.randn(samples, in_dim, generator=g, dtype=torch.float64)
            x2 = x + sigma_aug * torch.randn(samples, in_dim, generator=g, dtype=torch.float64)
            P = torch.tensor(_predictor(W.detach().numpy(), alpha))
            z1, z2 = x1 @ W.T, x2 @ W.T
            if iso:
                loss = 0.5 * ((z1 - (z1 + z2 - z1 @ P.T).detach()) ** 2).sum(1).mean()
            else:
                loss = 0.5 * ((z1 @ P.T - z2.detach()) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            eigs.append(np.linalg.eigvalsh((W @ W.T).detach().numpy()))
    return {"t": lr * np.arange(steps + 1), "eig": np.array(eigs), "alpha": alpha, "iso": int(iso),
            "sigma2": sigma_aug**2, "eta": eta, "lr": lr}


def theory(run: dict):
    """``(flow, euler)``: the derived flow from the measured initial eigenvalues, exact and Euler at lr."""
    from scipy.integrate import solve_ivp

    a, s2, e, i, t = run["alpha"], run["sigma2"], run["eta"], run["iso"], run["t"]
    lam0 = run["eig"][0]
    sol = solve_ivp(lambda _, y: ds.flow_lam(y, a, s2, e, i), (0, t[-1]), lam0, t_eval=t, rtol=1e-10, atol=1e-14)
    euler = np.empty_like(run["eig"])
    euler[0] = lam0
    for k in range(1, len(t)):
        euler[k] = euler[k - 1] + (t[k] - t[k - 1]) * ds.flow_lam(euler[k - 1], a, s2, e, i)
    return sol.y.T, euler


def compare(run: dict) -> dict:
    flow, euler = theory(run)
    meas = run["eig"][1:]
    rel = np.abs(meas - flow[1:]) / np.abs(flow[1:])
    rel_e = np.abs(meas - euler[1:]) / np.abs(euler[1:])
    moving = np.abs(flow[1:] - flow[-1]) > 0.05 * np.abs(flow[-1])     # the transient: > 5% from the end value
    return {"t": run["t"], "measured": run["eig"], "flow": flow, "euler": euler, "alpha": run["alpha"],
            "iso": run["iso"], "median_rel_error": float(np.median(rel)), "max_rel_error": float(rel.max()),
            "median_rel_error_transient": float(np.median(rel[moving])) if moving.any() else 0.0,
            "median_rel_error_vs_euler": float(np.median(rel_e)), "max_rel_error_vs_euler": float(rel_e.max())}


def toy(alphas=(0.5, 1.0), *, steps=1500, samples=4096, seed=0) -> dict:
    """Every (alpha, variant): ``{"alpha=0.5/euclidean": compare(...), ..., "acceptance": {...}}``."""
    out = {}
    for a in alphas:
        for iso in (0, 1):
            out[f"alpha={a:g}/{'isoloss' if iso else 'euclidean'}"] = compare(
                train(a, iso, steps=steps, samples=samples, seed=seed))
    out["acceptance"] = {k: {"median_rel_error": v["median_rel_error"], "within_2pct": v["median_rel_error"] <= 0.02}
                         for k, v in out.items()}
    return out
