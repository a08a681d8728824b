r"""Simon et al. (ICML 2023), "On the Stepwise Nature of Self-Supervised Learning", Fig. 1 A/B on
real data: linear Barlow Twins trained from small initialisation on augmented positive pairs of
scikit-learn's digits (torch, CPU, seeded, full batch), against :mod:`symbolic.barlow_linear`.

Setting. Each of the 1797 8x8 digit images gives ``pairs_per_image`` positive pairs, each view a
random shift of the image by at most one pixel (zero fill) plus Gaussian pixel noise of standard
deviation ``noise`` (pixel units, 0-16); all views are centred by their common mean and scaled so
that the largest eigenvalue of :math:`\Gamma=\tfrac1{2n}\sum_i(x_ix_i'^\top+x_i'x_i^\top)` is 1. The pairs
are fixed (drawn once), so :math:`\Gamma` is exact. Model :math:`z=Wx`, :math:`W\in\mathbb R^{d\times64}`,
:math:`W(0)` Gaussian of scale ``init``; loss :math:`\|C-I\|_F^2` with :math:`C=\tfrac1{2n}(Z^\top Z'+Z'^\top Z)`;
plain full-batch gradient descent (the pairs are fixed, so the loss is computed from their
:math:`\Gamma`, computed once: :math:`C=W\Gamma W^\top` equals the batch cross-correlation exactly)
with torch's ``weight_decay`` :math:`\rho` (:math:`\Delta W=-\mathrm{lr}(\nabla\mathcal L+\rho W)`),
time :math:`t=\mathrm{lr}\times\mathrm{step}`.

Theory. Mode :math:`j` (eigenvalue :math:`\gamma_j` of :math:`\Gamma`, eigenvector :math:`v_j`) follows the
logistic :math:`c_j(t)` of :func:`symbolic.barlow_linear.trajectory` with plateau
:math:`c_j^*=1-\rho/(4\gamma_j)` and step time :math:`t_{1/2}=\ln(c^*_j/c_j(0)-1)/(8\gamma_jc^*_j)`. From a small
random :math:`W(0)` the flow is linear at first, :math:`W(t)\approx W(0)e^{(4\Gamma-\rho)t}`, so mode :math:`j`
starts from the part of :math:`W(0)v_j` orthogonal to the faster modes' :math:`W(0)v_k`, :math:`k<j`:
:math:`c_j(0)=\gamma_jR_{jj}^2` with :math:`W(0)V=QR` (the small-initialisation alignment, Simon et al. Sec. 4).
Measured: the eigenvalues of :math:`C(t)` (descending) against :math:`c_j(t)`; the step time is when the
:math:`j`-th eigenvalue crosses :math:`c^*_j/2`.
"""
from __future__ import annotations

import math

import numpy as np

from symbolic import barlow_linear as bl
from symbolic.errors import ParameterError, check_int, check_range

from ._torch import deterministic

IN_DIM = 64


def digit_pairs(pairs_per_image=2, noise=1.0, seed=0):
    """``(x1, x2)``: float64 arrays ``(n, 64)`` of augmented positive pairs of the digits, centred and
    scaled so that the largest eigenvalue of their symmetrised cross-correlation is 1."""
    from sklearn.datasets import load_digits

    check_int("pairs_per_image", pairs_per_image, 1)
    check_range("noise", noise, 0.0)
    rng = np.random.default_rng(seed)
    img = np.repeat(load_digits().images, pairs_per_image, axis=0)

    def view():
        out = np.zeros_like(img)
        sh = rng.integers(-1, 2, size=(len(img), 2))
        for (dy, dx) in {tuple(s) for s in sh}:
            sel = (sh[:, 0] == dy) & (sh[:, 1] == dx)
            out[sel] = np.roll(np.roll(img[sel], dy, axis=1), dx, axis=2)
            if dy:
                out[sel, (0 if dy > 0 else -1), :] = 0
            if dx:
                out[sel, :, (0 if dx > 0 else -1)] = 0
        return out.reshape(len(img), -1) + noise * rng.normal(size=(len(img), IN_DIM))

    x1, x2 = view(), view()
    mean = (x1.mean(0) + x2.mean(0)) / 2
    x1, x2 = x1 - mean, x2 - mean
    top = np.linalg.eigvalsh(cross_correlation(x1, x2))[-1]
    return x1 / math.sqrt(top), x2 / math.sqrt(top)


def cross_correlation(x1, x2):
    r""":math:`\Gamma=\tfrac1{2n}(X_1^\top X_2+X_2^\top X_1)`."""
    return (x1.T @ x2 + x2.T @ x1) / (2 * len(x1))


def train(x1, x2, *, dim=16, rho=0.0, lr=4e-3, steps=8000, init=1e-4, record_every=10, seed=0, W_init=None) -> dict:
    """Full-batch gradient descent on Barlow Twins; returns times, eigenvalues of ``C`` (descending,
    one row per record), the data's ``gamma`` (descending), the initial and final ``W`` (float64).
    ``W_init``: start from this ``W`` (e.g. a trained one) instead of ``init`` times a Gaussian."""
    import torch

    dim = check_int("dim", dim, 1)
    if dim > x1.shape[1]:
        raise ParameterError(f"dim (embedding modes) must be an integer in [1, {x1.shape[1]}] (the input dimension); "
                             f"got {dim}")
    check_range("rho", rho, 0.0)
    check_range("lr", lr, 0.0, lo_open=True)
    check_int("steps", steps, 1)
    check_range("init", init, 0.0, lo_open=True)
    check_int("record_every", record_every, 1)
    Gam = cross_correlation(x1, x2)
    with deterministic(seed) as g:
        G = torch.tensor(Gam)
        W0 = init * torch.randn(dim, x1.shape[1], generator=g, dtype=torch.float64)
        if W_init is not None:
            W0 = torch.tensor(np.array(W_init, dtype=np.float64).reshape(dim, x1.shape[1]))
        W = W0.clone().requires_grad_()
        opt = torch.optim.SGD([W], lr=lr, weight_decay=rho)
        eye = torch.eye(dim, dtype=torch.float64)
        times, eigs = [], []
        for step in range(steps + 1):
            C = W @ G @ W.T          # = (Z1^T Z2 + Z2^T Z1) / 2n for the fixed pairs, exactly
            if step % record_every == 0:
                times.append(lr * step)
                eigs.append(np.sort(np.linalg.eigvalsh(C.detach().numpy()))[::-1])
            if step == steps:
                break
            loss = ((C - eye) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    gam = np.sort(np.linalg.eigvalsh(Gam))[::-1]
    return {"t": np.array(times), "eig": np.array(eigs), "gamma": gam, "W0": W0.numpy(), "W": W.detach().numpy(),
            "rho": rho, "lr": lr}


def effective_init(W0, x1, x2):
    r""":math:`c_j(0)=\gamma_jR_{jj}^2`, :math:`W(0)V=QR`, V the eigenvectors of Gamma (descending)."""
    g, V = np.linalg.eigh(cross_correlation(x1, x2))
    g, V = g[::-1], V[:, ::-1]
    d = W0.shape[0]
    R = np.linalg.qr(W0 @ V[:, :d])[1]
    return g[:d] * np.diag(R) ** 2


def crossing_time(t, y, level):
    """First time ``y`` reaches ``level`` (linear interpolation), inf if never."""
    idx = np.nonzero(y >= level)[0]
    if len(idx) == 0:
        return math.inf
    i = idx[0]
    if i == 0:
        return float(t[0])
    return float(t[i - 1] + (level - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


def compare(run: dict, x1, x2, modes: int) -> dict:
    """Measured against predicted step times, plateaus and trajectories of the first ``modes`` modes."""
    d = run["W0"].shape[0]
    modes = check_int("modes", modes, 1, d)
    c0 = effective_init(run["W0"], x1, x2)
    gam, rho, t = run["gamma"][:d], run["rho"], run["t"]
    plateau = np.array([bl.plateau(g, rho) for g in gam])
    on = plateau > 0
    pred_t = np.array([bl.half_time(g, rho, c) for g, c in zip(gam, c0)])
    meas_t = np.array([crossing_time(t, run["eig"][:, j], plateau[j] / 2) if on[j] else math.inf for j in range(d)])
    theory = np.array([bl.trajectory(t, g, rho, c) for g, c in zip(gam, c0)]).T
    rate = 8.0 * gam * np.maximum(plateau, 1e-300)
    done = on & (pred_t + math.log(19.0) / rate < t[-1])          # predicted within 5% of the plateau by the end
    learned = np.arange(d)[done][:modes]
    if len(learned) == 0:
        raise ParameterError(f"steps must let at least one mode reach its plateau; got {len(t) and t[-1]:g} time units")
    final = run["eig"][-1]
    step_err = np.abs(meas_t[learned] - pred_t[learned]) / pred_t[learned]
    plat_err = np.abs(final[learned] - plateau[learned]) / plateau[learned]
    off = np.arange(d)[~on]
    off_ratio = float(final[off].max() / final[0]) if len(off) else 0.0
    return {"gamma": gam, "c0": c0, "plateau": plateau, "predicted_step_time": pred_t, "measured_step_time": meas_t,
            "learned": learned, "switched_off": off, "theory": theory, "t": t, "measured": run["eig"],
            "median_step_time_rel_error": float(np.median(step_err)), "max_step_time_rel_error": float(step_err.max()),
            "median_plateau_rel_error": float(np.median(plat_err)), "max_plateau_rel_error": float(plat_err.max()),
            "switched_off_max_over_largest": off_ratio, "rho": rho, "rho_c": [bl.critical_decay(g) for g in gam]}


def stepwise(*, dim=16, modes=8, rho_off_after=6, steps=8000, lr=4e-3, init=1e-4, seed=0, fast=False) -> dict:
    r"""Fig. 1 A/B: from small initialisation without weight decay and with a decay that switches off
    every mode past ``rho_off_after`` (:math:`\rho=4\sqrt{\gamma_k\gamma_{k+1}}`, the geometric middle of
    two critical decays); third, that decay switched on from the first run's trained ``W`` (the
    switched-off modes must die out from their plateau 1). Returns ``{"no-decay": compare(...),
    "decay": compare(...), "decay-after-training": switch_off(...), "acceptance": {...}}``."""
    x1, x2 = digit_pairs(pairs_per_image=1 if fast else 2, seed=seed)
    gam = np.sort(np.linalg.eigvalsh(cross_correlation(x1, x2)))[::-1]
    k = check_int("rho_off_after", rho_off_after, 1, dim - 1)
    rho = 4.0 * math.sqrt(gam[k - 1] * gam[k])
    out = {}
    for name, r in (("no-decay", 0.0), ("decay", rho)):
        run = train(x1, x2, dim=dim, rho=r, lr=lr, steps=steps, init=init, seed=seed)
        out[name] = compare(run, x1, x2, modes if r == 0 else min(modes, k))
        if r == 0:
            trained = run["W"]
    # the same decay switched on after training without it: learned modes past k must die out
    run = train(x1, x2, dim=dim, rho=rho, lr=lr, steps=steps, seed=seed, W_init=trained)
    out["decay-after-training"] = switch_off(run, out["no-decay"]["learned"])
    acc = {}
    for name in ("no-decay", "decay"):
        c = out[name]
        acc[name] = {"median_step_time_rel_error": c["median_step_time_rel_error"],
                     "median_plateau_rel_error": c["median_plateau_rel_error"],
                     "switched_off_max_over_largest": c["switched_off_max_over_largest"],
                     "step_times_within_10pct": c["median_step_time_rel_error"] <= 0.10,
                     "plateaus_within_5pct": c["median_plateau_rel_error"] <= 0.05,
                     "switched_off_below_1e-3": c["switched_off_max_over_largest"] < 1e-3}
    s_off = out["decay-after-training"]
    acc["decay-after-training"] = {k_: s_off[k_] for k_ in ("switched_off", "switched_off_max_over_largest",
                                                            "median_plateau_rel_error")}
    acc["decay-after-training"]["switched_off_below_1e-3"] = s_off["switched_off_max_over_largest"] < 1e-3
    acc["decay-after-training"]["plateaus_within_5pct"] = s_off["median_plateau_rel_error"] <= 0.05
    out["acceptance"] = acc
    return out


def switch_off(run: dict, learned) -> dict:
    r"""A decay switched on from a trained ``W``: the learned modes that the decay switches off
    (:math:`\gamma_j<\rho/4`) against the largest, and the surviving ones against :math:`c^*_j`."""
    d = run["W0"].shape[0]
    gam, rho = run["gamma"][:d], run["rho"]
    plateau = np.array([bl.plateau(g, rho) for g in gam])
    learned = np.asarray(learned)
    off, on = learned[plateau[learned] == 0], learned[plateau[learned] > 0]
    final = run["eig"][-1]
    return {"t": run["t"], "measured": run["eig"], "rho": rho, "plateau": plateau, "switched_off": off,
            "switched_off_max_over_largest": float(final[off].max() / final[0]) if len(off) else 0.0,
            "median_plateau_rel_error": float(np.median(np.abs(final[on] - plateau[on]) / plateau[on]))}
