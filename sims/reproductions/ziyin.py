r"""Ziyin, Lubana, Ueda & Tanaka (2022), "What shapes the loss landscape of self-supervised
learning?": the linear-model experiments of App. A, trained with torch on the CPU.

Setting (App. A; ``shared/theory/landscape_ziyin.md``): data :math:`\hat x\sim\mathcal N(0,I_{32})`, a
fixed training set of ``n`` points (the paper does not give it; its "smallest eigenvalue near 0.2"
suggests about 100: default 128), :math:`f(x)=Wx` with :math:`W\in\mathbb R^{32\times32}`, full batch,
Adam, 5000 iterations, two views :math:`x=\hat x+\epsilon`, :math:`x'=\hat x+\epsilon'` with fresh Gaussian
noise of variance :math:`\sigma^2` each iteration (the :math:`\mathbb E_\epsilon` of eq. 1).

Departures from the paper, all to make the finite run measure the landscape's minimum rather
than the optimiser's noise floor (the gradient noise from resampled augmentations grows like
:math:`\sigma^2/\sqrt N` while :math:`W` shrinks like :math:`\sigma^{-2}`):

* Fig. 2 left uses plain SGD (:func:`fig2_left`) with moment-matched noise: Adam at the paper's 6e-4 collapses
  InfoNCE modes at sigma >= 4 that the landscape keeps (a noise-induced, Lyapunov-type collapse of
  the random matrix product, not the landscape's); Figs. 2 mid and 3 use the paper's Adam 6e-4;
* learning rates decay to 0 on a cosine schedule;
* ``replicas`` independent augmentation draws per iteration are averaged (variance reduction);
* float32 training (float64 analysis);
* :math:`W(0)` is a random orthogonal matrix scaled to the theory's largest singular value (no
  spurious near-zero singular values from a random square initialisation).

The measured eigenvalues of :math:`W^\top W` are compared with Theorem 1 on the training set's own
(centred) covariance :math:`\hat A_0` and :math:`\Sigma=\hat A_0+\sigma^2I` (:mod:`dynamics.landscape`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dynamics.infonce_quartic import coupled_lambda, quartic_matrix
from dynamics.landscape import b_vector, commuting_lambda, n_crit
from symbolic.errors import ParameterError, check_choice, check_int, check_range

from ._torch import check_device, deterministic, infonce, weighted_infonce
from .report import save_numbers

D = 32


def train_linear(sigma, *, loss="infonce", n=128, alpha=0.1, normalize=False, steps=5000, optimizer="adam",
                 lr=6e-4, replicas=1, init_scale=None, noise="gaussian", seed=0, dtype="float32",
                 center=False, device="cpu") -> dict:
    """Train :math:`f=Wx` on one loss; return ``a`` (eigenvalues of :math:`\\hat A_0`, ascending), its
    eigenvectors ``U``, ``WtW`` and its eigenvalues ``eig`` (ascending, float64).

    ``loss``: ``infonce`` (eq. 1), ``weighted-printed`` (eq. 3 as printed) or ``weighted-self`` (eq. 3
    plus a zero-distance self term of weight :math:`1-\\alpha`, which gives eq. 4 exactly).
    ``normalize``: per-sample :math:`f\\to f/\\|f\\|` before the loss (Fig. 3). ``optimizer``: ``adam``
    or ``sgd`` (plain), both with ``lr`` decayed to 0 on a cosine schedule; ``replicas`` augmentation
    draws per step. ``noise="matched"``: Gaussian noise projected off the span of :math:`[1,\\hat X_c]` and
    orthonormalised, so that each step's empirical second moments are exact
    (:math:`\\epsilon^\\top\\epsilon/N=\\sigma^2I`, :math:`\\epsilon^\\top\\epsilon'=0`,
    :math:`\\hat X_c^\\top\\epsilon=0`; needs
    :math:`N\\ge3\\cdot32+1`): the loss's quadratic part is then the same every step, which removes the
    noise-induced drift (see :func:`safe_sgd`) at leading order.
    :math:`W(0)` is ``init_scale`` times a random orthogonal matrix (default: the
    theory's largest singular value, or :math:`1/\\sqrt{32}` with normalisation).
    ``device``: ``cpu`` (default, bit-reproducible) or ``cuda``; the random draws are the same on both.
    ``center``: train on the centred set :math:`\\hat X-\\bar x` (the theory's :math:`\\hat A_0` is centred;
    the kernel losses without normalisation do not see a common offset, normalised outputs do).
    """
    import torch

    check_range("sigma", sigma, 0)
    check_choice("loss", loss, ("infonce", "weighted-printed", "weighted-self"))
    n = check_int("n", n, 3 * D + 1 if noise == "matched" else 2)
    check_range("alpha", alpha, 0, 1, hi_open=False)
    check_int("steps", steps, 1)
    check_choice("optimizer", optimizer, ("adam", "sgd"))
    check_range("lr", lr, 0, lo_open=True)
    check_int("replicas", replicas, 1)
    check_choice("noise", noise, ("gaussian", "matched"))
    check_choice("dtype", dtype, ("float32", "float64"))
    device = check_device(device)
    dt = getattr(torch, dtype)
    with deterministic(seed) as g:
        Xh = torch.randn(n, D, generator=g, dtype=torch.float64)
        Xc = Xh - Xh.mean(0)
        a, U = np.linalg.eigh((Xc.T @ Xc / n).numpy())
        if init_scale is None:
            init_scale = 1.0 / math.sqrt(D) if normalize else math.sqrt(a[-1] / (2 * (a[-1] + sigma**2) ** 2))
        Q, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
        W = (init_scale * Q).to(device=device, dtype=dt).requires_grad_()
        X = (Xc if center else Xh).to(device=device, dtype=dt)
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)([W], lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps)))
        if noise == "matched":
            Qx, _ = torch.linalg.qr(torch.cat([torch.ones(n, 1, dtype=torch.float64), Xc], 1))
        for _ in range(steps):
            if noise == "matched":
                G = torch.randn(replicas, n, 2 * D, generator=g, dtype=torch.float64)
                G = torch.linalg.qr(G - Qx @ (Qx.T @ G))[0] * (sigma * math.sqrt(n))
                e1, e2 = G[..., :D].to(device=device, dtype=dt), G[..., D:].to(device=device, dtype=dt)
            else:
                e1 = sigma * torch.randn(replicas, n, D, generator=g, dtype=dt).to(device)
                e2 = sigma * torch.randn(replicas, n, D, generator=g, dtype=dt).to(device)
            z1, z2 = (X + e1) @ W.T, (X + e2) @ W.T
            if normalize:
                z1 = z1 / z1.norm(dim=-1, keepdim=True)
                z2 = z2 / z2.norm(dim=-1, keepdim=True)
            if loss == "infonce":
                val = infonce(z1, z2)
            else:
                val = weighted_infonce(z1, z2, alpha, self_term=(loss == "weighted-self"))
            opt.zero_grad()
            val.backward()
            opt.step()
            sched.step()
        Wd = W.detach().double().cpu()
        M = (Wd.T @ Wd).numpy()
    return {"a": a, "U": U, "WtW": M, "eig": np.linalg.eigvalsh(M)}


def safe_sgd(sigma, n=128):
    r"""Learning rate and replicas for plain SGD on InfoNCE at noise ``sigma``: ``(lr, replicas)``.

    Resampled augmentations make each step a random matrix product :math:`W\to W(I-\eta M_t)`; its
    Lyapunov drift :math:`\eta b-\tfrac12\eta^2\operatorname{Var}M` turns negative, and trained modes collapse
    that the landscape keeps, once :math:`\eta\gtrsim 2bK/\operatorname{Var}M` with
    :math:`\operatorname{Var}M\propto\sigma^4/N` (seen here: Adam at 6e-4 and SGD at 0.1/sigma^2 both
    collapse InfoNCE at sigma = 6). So :math:`\eta=0.02/\sigma^2` up to sigma = 6 and
    :math:`0.72K/\sigma^4` beyond, with :math:`K=\lceil(\sigma/6)^4\rceil` replicas, scaled by ``n/128``.
    """
    K = max(1, math.ceil((sigma / 6.0) ** 4 - 1e-9))
    lr = (0.02 / sigma**2 if sigma <= 6 else 0.72 * K / sigma**4) * n / 128
    return lr, K


def _minima(b, a, sigma, n, variant, alpha=1.0):
    r"""Sorted eigenvalues of :math:`W^\top W` at the landscape minimum for ``b`` and data eigenvalues ``a``
    with :math:`C=\sigma^2I`: Theorem 1's decoupled quartic, and the derived quartic of ``variant``
    (:mod:`dynamics.infonce_quartic`)."""
    c = sigma**2 * np.ones(len(a))
    return (np.sort(commuting_lambda(b, a + c)),
            np.sort(coupled_lambda(b, quartic_matrix(a, c, n, variant, alpha))))


def _fit_slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def fig2_left(sigmas=(2.0, 3.0, 4.0, 5.0, 6.0, 8.0), *, n=128, steps=5000, fit_from=4.0, seed=0,
              noise="matched", lr_c=0.1, device="cpu") -> dict:
    r"""Fig. 2 left: the three smallest eigenvalues of :math:`W^\top W` versus :math:`\sigma` (InfoNCE).

    Theory (Theorem 1, :math:`B=\hat A_0`, :math:`C=\sigma^2I`):
    :math:`\lambda_i=a_i/(2(a_i+\sigma^2)^2)\propto\sigma^{-4}`.
    Returns the measured and theoretical three smallest eigenvalues per sigma and the fitted log-log
    slope of each measured eigenvalue for ``sigma >= fit_from``. Plain SGD, :math:`\eta=c/\sigma^2` (``lr_c``)
    decayed on a cosine, with moment-matched noise (``noise="matched"``, see :func:`train_linear`);
    with i.i.d. Gaussian noise (``noise="gaussian"``, step from :func:`safe_sgd`) the measured
    eigenvalues fall increasingly below the landscape's as sigma grows (noise-induced drift; seed 0,
    5000 steps: measured/theory 1.36 at sigma = 2, 0.78 at sigma = 8, slopes -4.4 to -4.5).

    Measured (seed 0, 5000 steps): the trained eigenvalues sit a constant factor 1.66-1.76 above
    Theorem 1's for sigma = 2..8, so the exponent agrees (fitted -3.94 against -3.95 for the theory
    curve on sigma >= 4). Part of the factor is derived: the cumulant expansion gives the conditional
    variance over negatives, a quartic coefficient 3/4 of Theorem 1's plus :math:`1/N` terms
    (:mod:`dynamics.infonce_quartic`, Monte-Carlo checked); its minimiser (``coupled``) is 1.343x
    Theorem 1's here, so the trained eigenvalues sit 1.24-1.31x above it. The rest is plausibly the
    :math:`O(t^6)` terms: at the trained scale :math:`\|W\epsilon\|^2` is of order 1.
    """
    for sg in sigmas:
        check_range("sigmas", sg, 0, lo_open=True)
    if sum(sg >= fit_from for sg in sigmas) < 2:
        raise ParameterError(f"sigmas needs at least 2 values >= fit_from = {fit_from} for the slope; got {list(sigmas)}")
    meas, theo, coup = [], [], []
    for sg in sigmas:
        if noise == "matched":
            lr, K = lr_c / sg**2, 1
        else:
            lr, K = safe_sgd(sg, n)
        r = train_linear(sg, loss="infonce", n=n, steps=steps, seed=seed, optimizer="sgd", lr=lr, replicas=K,
                         noise=noise, device=device)
        meas.append(r["eig"][:3])
        lam, lam_c = _minima(b_vector("infonce", r["a"], sg**2 * np.ones(D)), r["a"], sg, n, "infonce")
        theo.append(lam[:3])
        coup.append(lam_c[:3])
    meas, theo, sig = np.array(meas), np.array(theo), np.asarray(sigmas, float)
    sel = sig >= fit_from
    slopes = [_fit_slope(sig[sel], meas[sel, i]) for i in range(3)]
    return {"sigma": sig, "measured": meas, "theory": theo, "slopes": np.array(slopes),
            "theory_slopes": np.array([_fit_slope(sig[sel], theo[sel, i]) for i in range(3)]),
            "ratio_at_largest": meas[-1] / theo[-1], "coupled": np.array(coup)}


def weighted_collapse(n=64, *, alpha=0.1, sigma=5.0, steps=5000, seed=0, replicas=None, device="cpu") -> dict:
    r"""Fig. 2 mid at one dataset size: weighted InfoNCE, printed eq. 3 and the self-term variant.

    Eq. 4 predicts mode i collapsed iff :math:`\frac{1-\alpha}{N}\sigma^2\ge a_i`
    (:math:`N_{crit}=(1-\alpha)\sigma^2/a_i`). For each variant we report the ``k`` smallest eigenvalues
    of :math:`W^\top W` over its largest, ``k`` the predicted number of collapsed modes, and whether all
    are below ``1e-4`` (``collapsed_all``); also the Rayleigh quotients along the predicted directions
    (the eigenvectors of :math:`\hat A_0`), which carry the misalignment of the null space, and
    ``theory_rel``: Theorem 1's eigenvalues over their largest for the variant's own B (eq. 4 for the
    self term, :math:`\frac{N}{N-1+\alpha}\hat A_0` for the printed loss), ascending.

    ``coupled_rel``: the same with the derived quartic (:mod:`dynamics.infonce_quartic`, its :math:`1/N`
    mode coupling included).

    Measured (seed 0, 5000 steps): the predicted directions end below 1e-4 with the self term
    (N = 32: 17/17, N = 64: 8/8) and mostly not with the printed loss (3/17, 1/8). Directions near eq. 4's
    threshold also end far below Theorem 1 (N = 64: the next three at 1.1e-4 to 2.2e-4 of the largest
    against 0.018-0.062), and 32 replicas instead of 8 make them smaller still: not gradient noise. The
    derived quartic accounts for much of it: its strong modes raise the cost of the weak ones
    (:math:`\tfrac{1-\alpha}{2N}\sigma^4(\sum\lambda)^2`), so it collapses 19 modes at N = 32 (measured 18 below
    1e-4) and 11 at N = 64 (measured 8, the next three at 1-2e-4 and still shrinking), and its largest
    eigenvalue is within 7-11% of the trained one (Theorem 1: 37-41% low). At N = 128 neither
    predicts a collapse, yet the smallest ends at 1.4e-5: that one is Adam's doing (:func:`weighted_sgd`:
    plain SGD with moment-matched noise lands on the derived quartic's spectrum).
    """
    replicas = max(1, 512 // n) if replicas is None else replicas       # 8 at N = 64
    out = {"n": n, "alpha": alpha, "sigma": sigma, "replicas": replicas}
    for variant in ("weighted-self", "weighted-printed"):
        r = train_linear(sigma, loss=variant, n=n, alpha=alpha, steps=steps, seed=seed, replicas=replicas,
                         optimizer="adam", lr=6e-4, init_scale=0.03, device=device)
        a = r["a"]
        pred = b_vector("weighted-infonce-paper", a, sigma**2 * np.ones(D), alpha, n) <= 0
        k = int(pred.sum())
        rel = r["eig"] / r["eig"][-1]
        rq = np.einsum("ij,jk,ki->i", r["U"].T, r["WtW"], r["U"]) / r["eig"][-1]
        own_b = b_vector("weighted-infonce-paper" if variant == "weighted-self" else "weighted-infonce-exact",
                         a, sigma**2 * np.ones(D), alpha, n)
        lam, lam_c = _minima(own_b, a, sigma, n, variant, alpha)
        out[variant] = {"a": a, "eig": r["eig"], "predicted_collapsed": pred, "k": k, "smallest_rel": rel[:k],
                        "theory_rel": lam / lam[-1], "coupled_rel": lam_c / lam_c[-1],
                        "coupled_collapsed": int(np.sum(lam_c == 0)), "largest": r["eig"][-1],
                        "theory_largest": lam[-1], "coupled_largest": lam_c[-1],
                        "collapsed_all": bool(np.all(rel[:k] < 1e-4)), "n_below": int(np.sum(rel[:k] < 1e-4)),
                        "rayleigh_rel": rq[pred], "n_crit": n_crit(a, sigma**2 * np.ones(D), alpha)}
    return out


def weighted_sgd(n=128, *, alpha=0.1, sigma=5.0, steps=5000, lr_c=0.1, seed=0, device="cpu") -> dict:
    r"""The self-term weighted InfoNCE trained with plain SGD (:math:`\eta=c/\sigma^2`, cosine decay) and
    moment-matched noise (needs :math:`N\ge97`), against Theorem 1 and the derived quartic.

    Measured (seed 0, N = 128, 5000 steps): the five smallest eigenvalues over the largest are
    0.02, 0.04, 0.06, 0.08, 0.10 against the derived quartic's 0.007, 0.035, 0.050, 0.073, 0.095 (Theorem 1:
    0.066-0.15), the largest within 7% of the derived one. Adam at the paper's 6e-4 on the same
    matched noise ends the smallest at 1.8e-8 instead: the collapse at N = 128 in :func:`weighted_collapse`
    comes from the optimiser, as with InfoNCE (see :func:`safe_sgd`), not from the landscape.
    """
    r = train_linear(sigma, loss="weighted-self", n=n, alpha=alpha, steps=steps, seed=seed, optimizer="sgd",
                     lr=lr_c / sigma**2, noise="matched", device=device)
    b = b_vector("weighted-infonce-paper", r["a"], sigma**2 * np.ones(D), alpha, n)
    th, co = _minima(b, r["a"], sigma, n, "weighted-self", alpha)
    return {"n": n, "eig": r["eig"], "measured_rel": r["eig"] / r["eig"][-1], "theory_rel": th / th[-1],
            "coupled_rel": co / co[-1], "largest_over_coupled": r["eig"][-1] / co[-1],
            "largest_over_theory": r["eig"][-1] / th[-1]}


def fig2_mid(ns=(32, 64), **kw) -> dict:
    """Fig. 2 mid: :func:`weighted_collapse` for several dataset sizes (both variants)."""
    return {"ns": np.asarray(ns), "runs": [weighted_collapse(n, **kw) for n in ns]}


def fig3(sigmas=(0.0, 0.1, 0.2, 0.3, 0.5, 1.0), *, n=128, steps=5000, seed=0, center=True, device="cpu") -> dict:
    r"""Fig. 3: per-sample normalisation :math:`f\to f/\|f\|`, three smallest eigenvalues of :math:`W^\top W`
    (relative to the largest) versus sigma; the paper: collapse at noise well below the smallest data
    eigenvalue (about 0.2). Theory for comparison: the normalised landscape at :math:`\kappa=\infty`
    (eqs. 8, 19; :func:`dynamics.landscape.normalized_lambda` with :math:`c=1`).

    Trained on the centred set (``center=True``): with the raw draws, normalisation nulls the
    direction of the sample mean at every sigma (seed 0: overlap 0.994 with the collapsed
    eigenvector at sigma = 0 and 0.996 at 0.1; a common offset :math:`W\bar x` crowds the normalised
    outputs together), a collapse the centred theory does not describe.

    Measured (seed 0, 5000 Adam steps, :math:`a_{min}=0.289`): at sigma = 0 the three smallest
    relative eigenvalues are 0.120, 0.143, 0.151 against the :math:`\kappa=\infty` solution's 0.134, 0.150,
    0.163; at 0.1 none collapses (0.35-0.42 against 0.23-0.28); from sigma = 0.2
    (:math:`\sigma^2=0.04\ll a_{min}`: the paper's claim) the three smallest are below 3e-7, where the
    solution has collapsed only its smallest mode; from 0.3 both have all three collapsed. Plain SGD
    (lr 0.05, 10,000 steps) or 16 augmentation replicas give the same picture (sigma = 0.1: 0.35, 0.39,
    0.42 again; sigma = 0.2: 1.7e-6 to 6e-5), so unlike the weighted case this is not the optimiser:
    the :math:`\kappa=\infty` solution itself is off by this much.
    """
    from dynamics.landscape import normalized_lambda

    meas, theo, amin = [], [], None
    for sg in sigmas:
        r = train_linear(sg, loss="infonce", n=n, steps=steps, seed=seed, normalize=True, center=center,
                         device=device)
        meas.append(r["eig"][:3] / r["eig"][-1])
        lam, _ = normalized_lambda(r["a"], r["a"] + sg**2, 1.0)
        lam = np.sort(lam)
        theo.append(lam[:3] / lam[-1])
        amin = r["a"][0]
    return {"sigma": np.asarray(sigmas, float), "measured_rel": np.array(meas), "theory_rel": np.array(theo),
            "smallest_data_eigenvalue": float(amin)}


def _first_collapsed(sigma, rel, tol=1e-4):
    """Smallest ``sigma > 0`` whose smallest relative eigenvalue is below ``tol`` (None if none)."""
    hit = [float(s) for s, r in zip(sigma, rel) if s > 0 and r < tol]
    return hit[0] if hit else None


# ---------------------------------------------------------------- figure targets (registered) ----
# Each figure is ``*_compute(fast, device) -> result`` (the training), ``*_write(result, out_dir)``
# (drawn by figures.ziyin_*, saved with its numbers) and the registered ``*_figure`` doing both.
@dataclass(frozen=True, eq=False)
class Fig2Trained:
    """Ziyin Fig. 2 trained: :func:`fig2_left` and :func:`fig2_mid` (with ``"sgd"`` in the full run)."""

    left: dict
    mid: dict
    fast: bool


@dataclass(frozen=True, eq=False)
class Fig3Trained:
    """Ziyin Fig. 3 trained: :func:`fig3`."""

    res: dict
    fast: bool


def fig2_compute(fast=False, device="cpu") -> Fig2Trained:
    """Train Fig. 2 left and mid (``fast``: two sigmas, one N, 60 steps)."""
    if fast:
        left = fig2_left(sigmas=(4.0, 8.0), steps=60, lr_c=0.4, device=device)
        mid = fig2_mid(ns=(64,), steps=60, replicas=1, device=device)
    else:
        left = fig2_left(sigmas=(2.0, 3.0, 4.0, 6.0, 8.0), device=device)
        mid = fig2_mid(ns=(32, 64, 128), device=device)
        mid["sgd"] = weighted_sgd(128, device=device)
    return Fig2Trained(left, mid, fast)


def fig2_write(result: Fig2Trained, out_dir) -> list:
    """Draw :mod:`figures.ziyin_fig2` and write ``ziyin_fig2.{png,pdf,json}``."""
    from figures.style import save
    from figures.ziyin_fig2 import draw

    left, mid = result.left, result.mid
    acceptance = {
        "infonce_slopes": left["slopes"], "infonce_slopes_within_0.3_of_-4": bool(np.all(np.abs(left["slopes"] + 4) < 0.3)),
        "infonce_smallest_nonzero": bool(np.all(left["measured"] > 0)),
        "infonce_measured_over_theorem1": left["measured"] / left["theory"],
        "infonce_measured_over_derived_quartic": left["measured"] / left["coupled"],
        "weighted": [{"n": r["n"], "k_predicted_collapsed": r["weighted-self"]["k"],
                      "self_term_below_1e-4": r["weighted-self"]["n_below"],
                      "printed_eq3_below_1e-4": r["weighted-printed"]["n_below"],
                      "self_term_all_collapsed": r["weighted-self"]["collapsed_all"],
                      "printed_eq3_all_collapsed": r["weighted-printed"]["collapsed_all"],
                      "self_term_smallest_relative": r["weighted-self"]["eig"][0] / r["weighted-self"]["eig"][-1],
                      "printed_eq3_smallest_relative": r["weighted-printed"]["eig"][0] / r["weighted-printed"]["eig"][-1],
                      "self_term_measured_below_1e-4_all_modes": int(np.sum(r["weighted-self"]["eig"]
                                                                           < 1e-4 * r["weighted-self"]["eig"][-1])),
                      "self_term_collapsed_with_derived_quartic": r["weighted-self"]["coupled_collapsed"]}
                     for r in mid["runs"]]}
    if "sgd" in mid:
        g = mid["sgd"]
        acceptance["weighted_self_sgd_matched_n128"] = {
            "measured_rel_5_smallest": g["measured_rel"][:5], "derived_quartic_rel_5_smallest": g["coupled_rel"][:5],
            "theorem1_rel_5_smallest": g["theory_rel"][:5], "largest_over_derived": g["largest_over_coupled"],
            "largest_over_theorem1": g["largest_over_theory"]}
    return save(draw(result), out_dir, "ziyin_fig2") + [
        save_numbers(out_dir, "ziyin_fig2", acceptance, {"left": left, "mid": mid, "fast": result.fast})]


def fig2_figure(out_dir, fast=False, device="cpu"):
    """Registered target ``ziyin-fig2``: :func:`fig2_compute` then :func:`fig2_write`."""
    return fig2_write(fig2_compute(fast, device), out_dir)


def fig3_compute(fast=False, device="cpu") -> Fig3Trained:
    """Train Fig. 3 (normalised outputs; ``fast``: two sigmas, 60 steps)."""
    return Fig3Trained(fig3(sigmas=(0.0, 0.5), steps=60, device=device) if fast else fig3(device=device), fast)


def fig3_write(result: Fig3Trained, out_dir) -> list:
    """Draw :mod:`figures.ziyin_fig3` and write ``ziyin_fig3.{png,pdf,json}``."""
    from figures.style import save
    from figures.ziyin_fig3 import draw

    res = result.res
    acceptance = {"smallest_data_eigenvalue": res["smallest_data_eigenvalue"],
                  "first_sigma_collapsed_trained": _first_collapsed(res["sigma"], res["measured_rel"][:, 0]),
                  "first_sigma_collapsed_theory": _first_collapsed(res["sigma"], res["theory_rel"][:, 0])}
    return save(draw(result), out_dir, "ziyin_fig3") + [
        save_numbers(out_dir, "ziyin_fig3", acceptance, {**res, "fast": result.fast})]


def fig3_figure(out_dir, fast=False, device="cpu"):
    """Registered target ``ziyin-fig3``: :func:`fig3_compute` then :func:`fig3_write`."""
    return fig3_write(fig3_compute(fast, device), out_dir)
