r"""Jing, Vincent, LeCun & Tian (2022), "Understanding dimensional collapse in contrastive
self-supervised learning": the linear toy experiments, trained with torch on the CPU.

Setting (paper Sec. 4-5, App. figures; details in ``shared/theory/two_layer_jing.md``): 16x16
bias-free linear layers, 10,000 fixed samples from :math:`\mathcal N(0,I_{16})`, minibatch 128, plain
SGD (no momentum, no weight decay), two views :math:`x+\epsilon`, :math:`x+\epsilon'` with fresh noise each
step, InfoNCE (eq. 2). Two kernels: the paper's Gaussian kernel :math:`-|z_i-z'_j|^2/2` and the
authors' toy-code dot product with temperature 0.1 (``kernel="dot"``).

* :func:`one_layer_spectrum` (Fig. 3): noise of covariance :math:`kI_8` on the last 8 coordinates of
  :math:`x'-x` (each view :math:`k/2`); singular values of the noisy columns :math:`W_{:,8:}` versus ``k``.
  Theory (Lemma 2, :math:`W(t)=W(0)e^{Xt}`): they shrink with ``k`` and vanish once the noise beats
  the data along those coordinates.
* :func:`two_layer_alignment` (Figs. 5, 6): each layer initialised
  :math:`U\operatorname{diag}(e^{-0.35k})V^\top`; returns the alignment matrix :math:`|V_2^\top U_1|`
  and the singular values of :math:`W_1, W_2` and of the embedding covariance over training.
* :func:`depth_sweep` (Fig. 11): collapsed embedding dimensions versus depth, linear and ReLU.
* :func:`aligned_ode_check` (Theorem 3): a two-layer *gradient flow* started aligned against the
  aligned singular-value ODE :math:`\dot\sigma_1=\sigma_1\sigma_2^2\lambda`,
  :math:`\dot\sigma_2=\sigma_2\sigma_1^2\lambda` from the symbolic two-layer kernels
  (:func:`dynamics.integrate.integrate`, ``two-layer``/``eigen``) and its closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symbolic.errors import check_choice, check_int, check_range

from ..diagnostics import collapse_diagnostics
from ._torch import check_device, deterministic, infonce
from .report import save_numbers

D = 16
COLLAPSE_TOL = 1e-6      # an embedding-covariance eigenvalue below this x the largest counts as collapsed


def _init_layer(g, d=D, decay=0.35):
    """:math:`U\\operatorname{diag}(e^{-0.35k})V^\\top` with Haar-random orthogonal U, V (non-degenerate)."""
    import torch

    U, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return (U * torch.exp(-decay * torch.arange(d, dtype=torch.float64))) @ V.T


def _train(layers, X, noise_std, *, steps, lr, batch, kernel, relu, g, record_every=0, device="cpu"):
    """Plain minibatch SGD on InfoNCE; returns the history of per-layer singular values (if asked)."""
    import torch

    check_int("steps", steps, 1)
    check_range("lr", lr, 0, lo_open=True)
    check_int("batch", batch, 1, X.shape[0])
    check_choice("kernel", kernel, ("gaussian", "dot"))
    device = check_device(device)
    params = [W.to(device=device, dtype=torch.float32).clone().requires_grad_() for W in layers]   # float32: 2-3x faster
    X, noise_std = X.to(device=device, dtype=torch.float32), noise_std.to(device=device, dtype=torch.float32)
    n = X.shape[0]
    hist = []

    def embed(x):
        for i, W in enumerate(params):
            x = x @ W.T
            if relu and i < len(params) - 1:
                x = torch.relu(x)
        return x

    for step in range(steps + 1):
        if record_every and step % record_every == 0:
            with torch.no_grad():
                hist.append((step, [torch.linalg.svdvals(W.double()).cpu().numpy().copy() for W in params]))
        if step == steps:
            break
        idx = torch.randint(n, (batch,), generator=g)                 # CPU generator: same draws on any device
        x = X[idx.to(device)]
        e1 = torch.randn(x.shape, generator=g, dtype=x.dtype).to(device) * noise_std
        e2 = torch.randn(x.shape, generator=g, dtype=x.dtype).to(device) * noise_std
        loss = infonce(embed(x + e1), embed(x + e2), kernel)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for W, gW in zip(params, grads):
                W -= lr * gW
    with torch.no_grad():
        Z = embed(X).double().cpu()
        cov = torch.cov(Z.T)
    ev = np.clip(np.linalg.eigvalsh(cov.numpy())[::-1], 0, None)
    return [W.detach().double().cpu() for W in params], ev, hist, collapse_diagnostics(Z.numpy())


def _data(g, n):
    import torch

    return torch.randn(n, D, generator=g, dtype=torch.float64)


def one_layer_spectrum(ks=(0.0, 0.5, 1.0, 2.0, 4.0, 8.0), *, steps=10_000, lr=0.01, batch=128, n=10_000,
                       kernel="gaussian", seed=0, device="cpu") -> dict:
    """Jing Fig. 3: singular values of the noisy block of a trained one-layer W versus ``k``.

    Same seed (data, initialisation, noise draws) for every ``k``: only the noise amplitude changes.
    Returns ``k``, ``sv_noisy`` (len(ks), 8) and ``sv_clean`` (len(ks), 8), descending, and
    ``monotone``: whether every noisy singular value decreases with ``k``.
    """
    import torch

    for k in ks:
        check_range("ks", k, 0)
    check_int("n", n, 2)
    noisy, clean = [], []
    for k in ks:
        with deterministic(seed) as g:
            X = _data(g, n)
            W0, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))   # equal singular values
            std = torch.cat([torch.zeros(8), torch.full((8,), math.sqrt(k / 2))])
            (W,), _, _, _ = _train([W0], X, std, steps=steps, lr=lr, batch=batch, kernel=kernel, relu=False, g=g,
                                   device=device)
        noisy.append(torch.linalg.svdvals(W[:, 8:]).numpy())
        clean.append(torch.linalg.svdvals(W[:, :8]).numpy())
    noisy, clean = np.array(noisy), np.array(clean)
    return {"k": np.asarray(ks, float), "sv_noisy": noisy, "sv_clean": clean,
            "monotone": bool(np.all(np.diff(noisy, axis=0) < 0)), "kernel": kernel}


def two_layer_alignment(*, steps=10_000, lr=0.01, batch=128, n=10_000, noise=1e-3, kernel="gaussian", seed=0,
                        record_every=100, device="cpu") -> dict:
    r"""Jing Figs. 5/6: two bias-free layers from :math:`U\operatorname{diag}(e^{-0.35k})V^\top`, isotropic noise.

    Returns the final alignment matrix ``A = |V_2^T U_1|`` (with ``diag``; ``best``, the largest entry
    per column, measures alignment up to the pairing of modes: when the singular values of :math:`W_1`
    and :math:`W_2` are ranked differently, as with the dot kernel, ``A`` is a permutation), ``nondegenerate`` (modes
    whose singular values of :math:`W_1` are separated from both neighbours by more than 1% relative;
    degenerate pairs need not align), ``imbalance`` (:math:`\|W_1W_1^\top-W_2^\top W_2\|_2` at the start
    and the end: conserved by the gradient flow, nearly so by SGD) and ``active`` (non-degenerate modes
    with :math:`\sigma_{1,k}^2` and :math:`\sigma_{2,k}^2` above the final imbalance). Why that set:
    :math:`V_2=U_1` with :math:`S_1=S_2` is the same as :math:`W_1W_1^\top=W_2^\top W_2`, so a mode can only
    be aligned to the extent that its :math:`\sigma^2` dominates the conserved imbalance; modes far below
    it keep an orientation set by the initial imbalance, whatever the training length. Also returned:
    the history ``steps``, ``sv1``, ``sv2`` (time, 16), the final
    embedding-covariance eigenvalues and the collapsed count (< ``COLLAPSE_TOL`` x largest).

    Measured (seed 0, Gaussian kernel, the paper's 10,000 steps): imbalance 0.935 at the start,
    0.925 at the end; the 4 active modes (:math:`\sigma^2` 5.3-10.4) end with :math:`|A_{kk}|` 0.96-0.99,
    the next (:math:`\sigma^2=0.6`, just below) 0.99; the 11 modes with :math:`\sigma^2\le0.06` keep
    :math:`|A_{kk}|` 0.03-0.5, and they hold the 9 collapsed embedding dimensions. 40,000 steps (or lr
    0.04) align no further mode: the loss saturates on the grown ones, the others stop growing.
    Theorem 2 (:math:`A\to I` on non-degenerate modes) assumes every mode keeps growing
    (:math:`t\to\infty`); in a finite run it holds on the modes that outgrow the imbalance.
    """
    import torch

    check_int("n", n, 2)
    check_range("noise", noise, 0)
    with deterministic(seed) as g:
        X = _data(g, n)
        layers = [_init_layer(g), _init_layer(g)]
        std = torch.full((D,), noise, dtype=torch.float64)
        (W1, W2), ev, hist, diag = _train(layers, X, std, steps=steps, lr=lr, batch=batch, kernel=kernel, relu=False,
                                    g=g, record_every=record_every, device=device)
    imbalance = [float(np.linalg.norm((Wa @ Wa.T - Wb.T @ Wb).numpy(), 2)) for Wa, Wb in (layers, (W1, W2))]
    U1, s1, _ = np.linalg.svd(W1.numpy())
    _, s2, V2t = np.linalg.svd(W2.numpy())
    A = np.abs(V2t @ U1)                         # rows: right singular vectors of W2; columns: left of W1
    gap = np.abs(np.diff(s1)) / s1[:-1]
    sep = np.ones(D, bool)
    sep[:-1] &= gap > 0.01
    sep[1:] &= gap > 0.01
    active = sep & (s1**2 > imbalance[1]) & (s2**2 > imbalance[1])
    return {"A": A, "diag": np.diag(A).copy(), "best": A.max(axis=0), "nondegenerate": sep, "active": active,
            "imbalance": np.array(imbalance),
            "steps": np.array([h[0] for h in hist]),
            "sv1": np.array([h[1][0] for h in hist]), "sv2": np.array([h[1][1] for h in hist]),
            "embedding_eigenvalues": ev, "collapsed": int(np.sum(ev < COLLAPSE_TOL * ev[0])), "kernel": kernel,
            "diagnostics": diag}


def depth_sweep(depths=(1, 2, 3, 4), *, relu=False, steps=10_000, lr=0.01, batch=128, n=10_000, noise=1e-3,
                kernel="gaussian", seed=0, device="cpu") -> dict:
    """Jing Fig. 11: embedding-covariance spectrum and collapsed-dimension count versus depth, with the
    shared collapse diagnostics of the embeddings per depth (:func:`sims.diagnostics.collapse_diagnostics`:
    normalised-output std, stable/effective rank, RankMe)."""
    import torch

    for L in depths:
        check_int("depths", L, 1)
    check_int("n", n, 2)
    check_range("noise", noise, 0)
    spectra, counts, diags = [], [], []
    for L in depths:
        with deterministic(seed) as g:
            X = _data(g, n)
            layers = [_init_layer(g) for _ in range(L)]
            std = torch.full((D,), noise, dtype=torch.float64)
            _, ev, _, diag = _train(layers, X, std, steps=steps, lr=lr, batch=batch, kernel=kernel, relu=relu, g=g,
                                    device=device)
        spectra.append(ev)
        diags.append(diag)
        counts.append(int(np.sum(ev < COLLAPSE_TOL * ev[0])))
    return {"depths": np.asarray(depths), "spectra": np.array(spectra), "collapsed": np.array(counts),
            "nondecreasing": bool(np.all(np.diff(counts) >= 0)), "relu": relu, "kernel": kernel,
            "diagnostics": diags}


def aligned_ode_check(*, t_end=1.0, dt=1e-3, n_out=11, seed=0) -> dict:
    r"""Theorem 3 checked on a two-layer gradient flow started aligned.

    The run: :math:`L(W_1,W_2)=-\tfrac12\operatorname{Tr}[W_2W_1XW_1^\top W_2^\top]` with a fixed symmetric
    :math:`X=\hat\Sigma_0-\hat\Sigma_1` (uniform weights: data covariance of differences minus the
    augmentation covariance, one direction with stronger noise so :math:`X` has a negative eigenvalue),
    whose gradient flow is exactly Lemma 4's :math:`\dot W_1=W_2^\top W_2W_1X`,
    :math:`\dot W_2=W_2W_1XW_1^\top`. Gradients come from torch autograd; time stepping is classical RK4
    with step ``dt`` (global error :math:`O(dt^4)`, about 1e-12 here). Initial condition aligned:
    :math:`W_1=U_1S_1V_1^\top` with :math:`V_1` the eigenvectors of :math:`X`, :math:`W_2=U_2S_2U_1^\top`,
    unbalanced (:math:`S_1\ne S_2`). Compared with the aligned ODE integrated by
    :func:`dynamics.integrate.integrate` (symbolic two-layer kernels, DOP853-class adaptive steps at
    rtol 1e-12) and with the closed form :math:`\sigma_1^2=Ca_0^2/(a_0^2-b_0^2e^{2\lambda Ct})`.
    Returns the singular values of the run and both references and the max relative errors.
    """
    import torch

    from dynamics.integrate import integrate

    with deterministic(seed) as g:
        X = _data(g, 200)
        dX = X[:, None, :] - X[None, :, :]
        S0 = torch.einsum("ijk,ijl->kl", dX, dX) / X.shape[0] ** 2 / 2       # covariance of differences / 2
        aug = torch.diag(torch.linspace(0.1, 0.6, D, dtype=torch.float64))
        aug[0, 0] = 3.0                                                       # one direction: noise beats data
        Xm = S0 - aug
        lam, V1 = torch.linalg.eigh(Xm)
        U1, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
        U2, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
        a0 = 0.2 + 0.6 * torch.rand(D, generator=g, dtype=torch.float64)
        b0 = a0 * (0.5 + 0.4 * torch.rand(D, generator=g, dtype=torch.float64))
        W = [U1 @ torch.diag(a0) @ V1.T, U2 @ torch.diag(b0) @ U1.T]

        def grad(Ws):
            Ws = [w.detach().requires_grad_() for w in Ws]
            P = Ws[1] @ Ws[0]
            loss = -0.5 * torch.trace(P @ Xm @ P.T)
            return [-gW for gW in torch.autograd.grad(loss, Ws)]

        nsteps = int(round(t_end / dt))
        every = nsteps // (n_out - 1)
        out = []
        for step in range(nsteps + 1):
            if step % every == 0:
                out.append([torch.linalg.svdvals(w).numpy() for w in W])
            if step == nsteps:
                break
            k1 = grad(W)
            k2 = grad([w + 0.5 * dt * k for w, k in zip(W, k1)])
            k3 = grad([w + 0.5 * dt * k for w, k in zip(W, k2)])
            k4 = grad([w + dt * k for w, k in zip(W, k3)])
            W = [w + dt / 6 * (a + 2 * b + 2 * c + d) for w, a, b, c, d in zip(W, k1, k2, k3, k4)]
    t = np.linspace(0, t_end, n_out)
    lam, a0, b0 = lam.numpy(), a0.numpy(), b0.numpy()
    r = integrate("two-layer", lam[:, None], np.column_stack([a0, b0]), t_end, form="eigen", method="dopri5",
                  t_eval=t, rtol=1e-12, atol=1e-14)
    ode = np.asarray(r.ys)                        # (time, mode, state)
    C = a0**2 - b0**2
    s1_closed = np.sqrt(C * a0**2 / (a0**2 - b0**2 * np.exp(2 * lam * C * t[:, None])))
    s2_closed = np.sqrt(s1_closed**2 - C)
    # the run's singular values come sorted; match them to modes by sorting the references too
    run1 = np.array([o[0] for o in out])
    run2 = np.array([o[1] for o in out])
    srt = lambda m: -np.sort(-m, axis=1)
    err_ode = max(np.max(np.abs(run1 - srt(ode[:, :, 0])) / srt(ode[:, :, 0])),
                  np.max(np.abs(run2 - srt(ode[:, :, 1])) / srt(ode[:, :, 1])))
    err_closed = max(np.max(np.abs(run1 - srt(s1_closed)) / srt(s1_closed)),
                     np.max(np.abs(run2 - srt(s2_closed)) / srt(s2_closed)))
    return {"t": t, "lambda": lam, "sv1_run": run1, "sv2_run": run2, "sv1_ode": ode[:, :, 0], "sv2_ode": ode[:, :, 1],
            "sv1_closed": s1_closed, "max_rel_err_ode": float(err_ode), "max_rel_err_closed": float(err_closed)}


# ---------------------------------------------------------------- figure targets (registered) ----
# Each figure is ``*_compute(fast, device) -> result`` (the training), ``*_write(result, out_dir)``
# (drawn by figures.jing_*, saved with its numbers) and the registered ``*_figure`` doing both.
KERNELS = ("gaussian", "dot")


@dataclass(frozen=True, eq=False)
class Fig3Trained:
    """Jing Fig. 3 trained: one :func:`one_layer_spectrum` dict per kernel."""

    runs: list
    fast: bool


@dataclass(frozen=True, eq=False)
class Fig56Trained:
    """Jing Figs. 5/6 trained: :func:`two_layer_alignment` dicts (one per kernel) and :func:`aligned_ode_check`."""

    align: list
    ode: dict
    fast: bool


@dataclass(frozen=True, eq=False)
class Fig11Trained:
    """Jing Fig. 11 trained: :func:`depth_sweep` dicts (linear and ReLU, per kernel)."""

    sweeps: list
    fast: bool


def _kernels(fast):
    return KERNELS[:1] if fast else KERNELS


def fig3_compute(fast=False, device="cpu") -> Fig3Trained:
    """Train the one-layer spectra (both kernels; ``fast``: one kernel, two k, 100 steps)."""
    kw = dict(ks=(0.0, 4.0), steps=100, n=500) if fast else dict(ks=(0.0, 1.0, 2.0, 4.0, 8.0))   # paper: 10,000 steps
    return Fig3Trained([one_layer_spectrum(kernel=k, device=device, **kw) for k in _kernels(fast)], fast)


def fig3_write(result: Fig3Trained, out_dir) -> list:
    """Draw :mod:`figures.jing_fig3` and write ``jing_fig3_trained.{png,pdf,json}``."""
    from figures.jing_fig3 import draw
    from figures.style import save

    acceptance = {f"{r['kernel']}_noisy_block_decreases_with_k": r["monotone"] for r in result.runs}
    return save(draw(result), out_dir, "jing_fig3_trained") + [
        save_numbers(out_dir, "jing_fig3_trained", acceptance, {"runs": result.runs, "fast": result.fast})]


def fig3_figure(out_dir, fast=False, device="cpu"):
    """Registered target ``jing-fig3-trained``: :func:`fig3_compute` then :func:`fig3_write`."""
    return fig3_write(fig3_compute(fast, device), out_dir)


def fig56_compute(fast=False, device="cpu") -> Fig56Trained:
    """Alignment runs (both kernels) and the aligned-ODE check."""
    kw = dict(steps=100, n=500, record_every=50) if fast else {}
    align = [two_layer_alignment(kernel=k, device=device, **kw) for k in _kernels(fast)]
    ode = aligned_ode_check(t_end=0.3, dt=1e-2, n_out=4) if fast else aligned_ode_check()
    return Fig56Trained(align, ode, fast)


def fig56_write(result: Fig56Trained, out_dir) -> list:
    """Draw :mod:`figures.jing_fig56` and write ``jing_fig56.{png,pdf,json}``."""
    from figures.jing_fig56 import draw
    from figures.style import save

    ode = result.ode
    acceptance = {"aligned_ode_max_rel_err": ode["max_rel_err_ode"],
                  "aligned_closed_form_max_rel_err": ode["max_rel_err_closed"]}
    for r in result.align:
        nd, act = r["nondegenerate"], r["active"]
        acceptance[r["kernel"]] = {
            "nondegenerate_modes": int(nd.sum()), "min_diag_nondegenerate": float(r["diag"][nd].min()) if nd.any() else None,
            "imbalance_start_end": r["imbalance"], "active_modes": int(act.sum()),
            "min_diag_active": float(r["diag"][act].min()) if act.any() else None,
            "min_best_nondegenerate": float(r["best"][nd].min()) if nd.any() else None,
            "min_best_active": float(r["best"][act].min()) if act.any() else None,
            "diag_above_0.9_on_active": bool(act.any() and r["diag"][act].min() > 0.9)}
    return save(draw(result), out_dir, "jing_fig56") + [save_numbers(
        out_dir, "jing_fig56", acceptance, {"alignment": result.align, "aligned_ode": ode, "fast": result.fast})]


def fig56_figure(out_dir, fast=False, device="cpu"):
    """Registered target ``jing-fig56``: :func:`fig56_compute` then :func:`fig56_write`."""
    return fig56_write(fig56_compute(fast, device), out_dir)


def fig11_compute(fast=False, device="cpu") -> Fig11Trained:
    """Depth sweeps, linear and ReLU, per kernel (the paper's 10,000 steps; ``fast``: 100)."""
    kw = dict(depths=(1, 2), steps=100, n=500) if fast else {}
    sweeps = [depth_sweep(relu=relu, kernel=k, device=device, **kw) for k in _kernels(fast) for relu in (False, True)]
    for s in sweeps:
        s["tol"] = COLLAPSE_TOL
    return Fig11Trained(sweeps, fast)


def fig11_write(result: Fig11Trained, out_dir) -> list:
    """Draw :mod:`figures.jing_fig11` and write ``jing_fig11.{png,pdf,json}``."""
    from figures.jing_fig11 import draw
    from figures.style import save

    acceptance = {f"{s['kernel']}_{'relu' if s['relu'] else 'linear'}": {
        "collapsed_by_depth": s["collapsed"], "nondecreasing": s["nondecreasing"],
        "rankme_by_depth": [d["rankme"] for d in s["diagnostics"]]} for s in result.sweeps}
    return save(draw(result), out_dir, "jing_fig11") + [
        save_numbers(out_dir, "jing_fig11", acceptance, {"sweeps": result.sweeps, "fast": result.fast})]


def fig11_figure(out_dir, fast=False, device="cpu"):
    """Registered target ``jing-fig11-trained``: :func:`fig11_compute` then :func:`fig11_write`."""
    return fig11_write(fig11_compute(fast, device), out_dir)
