"""sims.train / sims.measure / sims.overlay / ssldyn validate: CPU checks (GPU tests skip)."""
import json
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sims.measure import collapse_diagnostics, matrix_metrics, stable_rank
from symbolic.errors import ParameterError

torch = pytest.importorskip("torch")

from sims.train import (TrainConfig, _cifar_pickles, augment, check_config, linear_batch,  # noqa: E402
                        load_images, normalise, simsiam_loss, spawn_gloo, train)

RNG = np.random.default_rng(7)


def _orth(n, rng=RNG):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


# --- measurements against closed forms ---------------------------------------------------
def test_matrix_metrics_commuting_known_spectrum():
    h, d = 5, 7
    U = _orth(h)
    p = np.array([3.0, -1.0, 0.5, 2.0, -0.25])
    s = np.array([0.5, 2.0, 1.0, 4.0, 0.1])
    W = U @ np.diag(p) @ U.T
    V = _orth(d)[:h]                        # h orthonormal rows
    Phi = U @ np.diag(np.sqrt(s)) @ V       # Phi Phi^T = U diag(s) U^T
    m = matrix_metrics(W, Phi, top=3)
    order = np.argsort(p)
    # closed forms: N_Phi^2 = sum s, N_Psi^2 = sum p^2 s, T = sum p s (theory notes 3);
    # 1e-12: a few float64 matrix products of O(1) entries
    assert m["finite"]
    assert np.allclose(m["p"], p[order], atol=1e-12)
    assert np.allclose(m["s"], s[order], atol=1e-12)
    assert m["n_phi"] == pytest.approx(math.sqrt(s.sum()), rel=1e-12)
    assert m["n_psi"] == pytest.approx(math.sqrt((p * p * s).sum()), rel=1e-12)
    assert m["trace"] == pytest.approx((p * s).sum(), rel=1e-12)
    assert m["asymmetry"] == pytest.approx(0.0, abs=1e-14)
    assert m["commutator"] == pytest.approx(0.0, abs=1e-13)   # same eigenbasis: commute
    assert np.allclose(m["p_top"], [3.0, 2.0, 0.5], atol=1e-12)   # largest signed, descending
    assert np.allclose(m["s_top"], [0.5, 4.0, 1.0], atol=1e-12)


def test_matrix_metrics_asymmetry_and_commutator_by_hand():
    W = np.array([[0.0, 1.0], [0.0, 0.0]])
    Phi = np.diag([1.0, math.sqrt(2.0)])    # Phi Phi^T = diag(1, 2)
    m = matrix_metrics(W, Phi)
    # ||W - W^T|| / ||W|| = sqrt(2); [W, M] = [[0, 1], [0, 0]] -> 1 / (1 * sqrt(5))
    assert m["asymmetry"] == pytest.approx(math.sqrt(2.0), rel=1e-14)
    assert m["commutator"] == pytest.approx(1.0 / math.sqrt(5.0), rel=1e-14)
    assert np.allclose(m["p"], [-0.5, 0.5], atol=1e-15)   # eigenvalues of the symmetric part


def test_matrix_metrics_non_finite_reported():
    W = np.eye(3)
    W[1, 2] = np.nan
    m = matrix_metrics(W, np.eye(3))
    assert m["finite"] is False and m["p"] is None and m["n_phi"] is None
    assert collapse_diagnostics(np.full((4, 3), np.inf))["finite_outputs"] is False


def test_collapse_diagnostics_known_singular_values():
    n, h = 40, 6
    sv = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.0])
    Z = _orth(n)[:, :h] @ np.diag(sv) @ _orth(h)
    q = sv / sv.sum()
    ent = -np.sum(q[q > 0] * np.log(q[q > 0]))
    d = collapse_diagnostics(Z)
    assert d["stable_rank"] == pytest.approx((sv**2).sum() / 25.0, rel=1e-12)
    assert d["effective_rank"] == pytest.approx(math.exp(ent), rel=1e-10)
    # RankMe adds eps = 1e-7 to each q_k: changes the entropy by O(h * eps * |log eps|) ~ 1e-5
    assert d["rankme"] == pytest.approx(math.exp(ent), rel=2e-5)
    # covariance spectrum of centred Z: eigvalsh of np.cov, here checked via singular values of Zc
    Zc = Z - Z.mean(0)
    ref = np.linalg.svd(Zc, compute_uv=False) ** 2 / (n - 1)
    assert np.allclose(d["cov_spectrum"], ref, atol=1e-10)


def test_std_l2_collapsed_and_isotropic():
    v = RNG.standard_normal(8)
    Zc = np.outer(RNG.uniform(0.5, 2.0, 200), v)        # complete collapse: one direction
    assert collapse_diagnostics(Zc)["std_l2"] == pytest.approx(0.0, abs=1e-12)
    Zi = RNG.standard_normal((20000, 8))
    # isotropic Gaussian: each coordinate of z/|z| has variance 1/h; Monte-Carlo error ~ 1/sqrt(2n)
    assert collapse_diagnostics(Zi)["std_l2"] == pytest.approx(1 / math.sqrt(8), rel=0.02)
    assert stable_rank(Zi) == pytest.approx(8.0, rel=0.1)   # near-isotropic: ~h (finite-n spread)


# --- theory overlay against the worked example of the theory notes (section 5) -----------------
def test_overlay_worked_example():
    from sims.overlay import overlay

    o = overlay("cosine", 1e-2, 0.5, 2.0, 1.5, 0.5, [0.5, 0.01, -2.0, 0.955393937315])
    p4 = 0.955393937315
    assert o["ok"] and o["regime"] == "Acute"
    assert o["p4"] == pytest.approx(p4, rel=1e-10)
    assert np.allclose(o["equilibria"], [-1.09644864526, 0.0, 0.0454594076241, p4], atol=1e-10)
    assert o["critical_value"] == pytest.approx(0.10080523326, rel=1e-9)
    assert o["fates_top"][:3] == ["converge", "collapse", "diverge"]
    assert o["in_basin_top"][:3] == [True, False, False]
    assert o["rel_dist_p4_top"][0] == pytest.approx(abs(0.5 - p4) / p4, rel=1e-12)
    fates = [f for _, _, f in o["intervals"]]
    assert fates == ["diverge", "collapse", "collapse", "converge", "converge"]
    l2 = overlay("l2", 0.05, 0.5, 1.0, 1.0, 0.0, [0.7])   # Tian eq. 16: 0, 0.0544466578, 0.6122200088
    assert np.allclose(l2["equilibria"], [0.0, 0.0544466578, 0.6122200088], atol=1e-9)
    assert l2["critical_value"] == pytest.approx(1 / 6, rel=1e-12)
    high = overlay("l2", 0.2, 0.5, 1.0, 1.0, 0.0, [0.7])  # above 1/(4(1+sigma2)): Collapse
    assert high["regime"] == "Collapse" and high["p4"] is None and high["in_basin_top"] == [False]


# --- loss, initialisation and data ---------------------------------------------------------
def _np_loss(phi, w, x1, x2, loss):
    z1, z2 = x1 @ phi.T, x2 @ phi.T
    p1, p2 = z1 @ w.T, z2 @ w.T
    if loss == "cosine":
        def cos(a, b):
            return np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        return -0.5 * (cos(p1, z2).mean() + cos(p2, z1).mean())
    return 0.25 * (((p1 - z2) ** 2).sum(1).mean() + ((p2 - z1) ** 2).sum(1).mean())


@pytest.mark.parametrize("loss", ["cosine", "l2"])
def test_loss_gradient_stop_gradient_vs_finite_differences(loss):
    """Gradient of the SimSiam loss (targets detached) vs central differences of a numpy loss in
    which only the online branch moves (the stop-gradient)."""
    h, d, n = 3, 4, 6
    rng = np.random.default_rng(1)
    phi, w = rng.standard_normal((h, d)), rng.standard_normal((h, h))
    x1, x2 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    tp, tw = torch.tensor(phi, requires_grad=True), torch.tensor(w, requires_grad=True)
    X1, X2 = torch.tensor(x1), torch.tensor(x2)
    z1, z2 = X1 @ tp.T, X2 @ tp.T
    L = simsiam_loss(z1 @ tw.T, z2, z2 @ tw.T, z1, loss)
    L.backward()
    assert float(L.detach()) == pytest.approx(_np_loss(phi, w, x1, x2, loss), rel=1e-12)
    eps = 1e-6
    z1f, z2f = x1 @ phi.T, x2 @ phi.T   # frozen targets

    def online(phi_, w_):
        a1, a2 = x1 @ phi_.T, x2 @ phi_.T
        if loss == "cosine":
            def cos(a, b):
                return np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
            return -0.5 * (cos(a1 @ w_.T, z2f).mean() + cos(a2 @ w_.T, z1f).mean())
        return 0.25 * (((a1 @ w_.T - z2f) ** 2).sum(1).mean() + ((a2 @ w_.T - z1f) ** 2).sum(1).mean())

    for M, G, is_phi in ((phi, tp.grad.numpy(), True), (w, tw.grad.numpy(), False)):
        fd = np.zeros_like(M)
        for idx in np.ndindex(M.shape):
            Mp, Mm = M.copy(), M.copy()
            Mp[idx] += eps
            Mm[idx] -= eps
            fp = online(Mp, w) if is_phi else online(phi, Mp)
            fm = online(Mm, w) if is_phi else online(phi, Mm)
            fd[idx] = (fp - fm) / (2 * eps)
        # central differences: O(eps^2) truncation + O(1e-16 / eps) rounding ~ 1e-9
        assert np.allclose(G, fd, atol=1e-7)
    if loss == "cosine":
        # scale invariance of the online branch: <grad_W, W> = <grad_Phi, Phi> = 0 exactly
        # (theory notes 6.2), up to float64 rounding of O(1) sums
        assert abs(float((tw.grad * tw.detach()).sum())) < 1e-12
        assert abs(float((tp.grad * tp.detach()).sum())) < 1e-12


def test_linear_init_and_batch_statistics():
    from sims.train import build_model

    cfg = TrainConfig(d=256, h=256)
    g = torch.Generator().manual_seed(0)
    m = build_model(cfg, g, torch.device("cpu"))
    phi, w = m.phi.detach().double(), m.w.detach().double()
    # ||Phi||_F^2 = sum of h d entries of variance 1/d: mean h, std sqrt(2 h) -> 5 sigma = 0.0625 h rel
    assert float((phi**2).sum()) == pytest.approx(256, rel=0.07)
    # W = (A + A^T)/2: E||W||_F^2 = h/2 + h/2 * (1/h) ... = (h + 1)/2
    assert float((w**2).sum()) == pytest.approx(257 / 2, rel=0.1)
    assert torch.equal(w, w.T)
    x1, x2 = linear_batch(g, 4096, 16, 0.5, torch.device("cpu"))
    c11 = (x1.T @ x1 / 4096).double().numpy()
    c21 = (x2.T @ x1 / 4096).double().numpy()
    # E[x1 x1^T] = (1 + sigma2) I, E[x2 x1^T] = I; entries' MC std ~ 1.5/sqrt(4096) = 0.023
    assert np.allclose(np.diag(c11), 1.5, atol=0.12) and np.allclose(np.diag(c21), 1.0, atol=0.1)
    assert np.abs(c21 - np.diag(np.diag(c21))).max() < 0.1


def test_augment_identity_flip_and_grayscale():
    x = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    base = torch.tensor([1.0, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9]).repeat(3, 1)
    # area 1, ratio 1, centred, no flip, no jitter, no grayscale: the identity resampling
    # (align_corners=False samples pixel centres exactly; float32 rounding ~1e-6 of a 1/std scale)
    assert torch.allclose(augment(x, base), normalise(x), atol=1e-4)
    flip = base.clone()
    flip[:, 4] = 0.1
    assert torch.allclose(augment(x, flip), normalise(x).flip(-1), atol=1e-4)
    gray = base.clone()
    gray[:, 10] = 0.1
    g = augment(x, gray)
    std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
    mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    raw = g * std + mean                      # un-normalised: all channels equal the luminance
    lum = (x.float() / 255 * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1)
    assert torch.allclose(raw[:, 0], lum, atol=1e-5) and torch.allclose(raw[:, 2], lum, atol=1e-5)


def test_digits_fallback_and_cifar_pickles(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    imgs, name = load_images(None)
    assert imgs.shape == (1797, 3, 32, 32) and imgs.dtype == np.uint8 and "sklearn-digits" in name
    # bilinear upsampling preserves the mean intensity up to border effects (~2%)
    ref = load_digits().images.mean() / 16 * 255
    assert imgs.mean() == pytest.approx(ref, rel=0.05)
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    arr = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 251
    with open(base / "data_batch_1", "wb") as f:
        pickle.dump({b"data": arr.astype(np.uint8), b"labels": [0, 1]}, f)
    out = _cifar_pickles(str(tmp_path))
    # CIFAR rows are channel-major (R plane, G plane, B plane), 32 x 32 each
    assert out.shape == (2, 32, 32, 3)
    assert out[1, 3, 5, 2] == arr[1, 2 * 1024 + 3 * 32 + 5]


# --- training runs -------------------------------------------------------------------------
def _tiny(**kw):
    base = dict(mode="linear", d=8, h=8, batch=16, epochs=4, steps_per_epoch=3, eval_size=32,
                overlay=False, dump_rank_weights=True, rho=0.05)
    base.update(kw)
    return TrainConfig(**base)


def _weights(path):
    return torch.load(path, weights_only=True)


def test_linear_smoke_records_match_numpy(tmp_path):
    cfg = _tiny(overlay=True, epochs=2, early_every=1)
    res = train(cfg, tmp_path)
    recs = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in recs if not r.get("early")] == [0, 1, 2]
    assert len([r for r in recs if r.get("early")]) == 2        # steps 1, 2 of epoch 1
    w = _weights(tmp_path / "final_rank0.pt")
    W, Phi = w["w"].double().numpy(), w["phi"].double().numpy()
    last = recs[-1]
    # the recorded end state is the final weights' (float64 numpy on the same float32 values)
    assert last["n_phi"] == pytest.approx(np.linalg.norm(Phi), rel=1e-12)
    assert last["trace"] == pytest.approx(np.trace(W @ Phi @ Phi.T), rel=1e-10, abs=1e-14)
    assert np.allclose(last["p"], np.linalg.eigvalsh((W + W.T) / 2), atol=1e-12)
    th = last["theory"]
    assert th["ok"] and th["regime"] in ("Collapse", "Acute")
    # weight decay with momentum shrinks the norms: N_Phi(end) < N_Phi(0)
    assert recs[-1]["n_phi"] < recs[0]["n_phi"]
    assert res["data"].startswith("Gaussian")


@pytest.mark.slow
def test_resnet18_smoke(tmp_path):
    pytest.importorskip("sklearn")
    cfg = TrainConfig(mode="resnet18", h=8, batch=4, epochs=1, steps_per_epoch=1, eval_size=8,
                      overlay=True, dump_rank_weights=True)
    res = train(cfg, tmp_path)
    assert res["data"] == "sklearn-digits (1797 images, resized 32x32)"
    rec = res["records"][-1]
    Phi = _weights(tmp_path / "final_rank0.pt")["fc.weight"].double().numpy()
    assert Phi.shape == (8, 512)
    assert rec["n_phi"] == pytest.approx(np.linalg.norm(Phi), rel=1e-12)
    assert rec["finite_outputs"] and 1.0 <= rec["rankme"] <= 8.0


@pytest.mark.slow
def test_ddp_two_process_gloo_equals_single_process(tmp_path):
    cfg = _tiny(epochs=2)
    spawn_gloo(cfg, tmp_path / "ddp", nprocs=2)
    train(cfg, tmp_path / "single")
    r0 = _weights(tmp_path / "ddp" / "final_rank0.pt")
    r1 = _weights(tmp_path / "ddp" / "final_rank1.pt")
    s = _weights(tmp_path / "single" / "final_rank0.pt")
    for k in s:
        assert torch.equal(r0[k], r1[k])    # all-reduced gradients: identical replicas
        # same global batch; only the order of float32 summation differs (~1e-7 per step, 6 steps)
        assert torch.allclose(r0[k], s[k], rtol=1e-5, atol=1e-6), k


def test_resume_bitwise(tmp_path):
    full = _tiny(checkpoint_every=2)
    train(full, tmp_path / "full")
    part = _tiny(checkpoint_every=2, stop_after=2)
    train(part, tmp_path / "part")
    train(_tiny(checkpoint_every=2, resume=True), tmp_path / "part")
    a, b = _weights(tmp_path / "full" / "final_rank0.pt"), _weights(tmp_path / "part" / "final_rank0.pt")
    for k in a:
        assert torch.equal(a[k], b[k]), k   # same data stream, momentum and lr schedule: bitwise
    la = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    lb = (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
    assert len(la) == len(lb) == 5
    assert [json.loads(x)["n_phi"] for x in la] == [json.loads(x)["n_phi"] for x in lb]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_linear_and_resnet(tmp_path):
    cfg = dict(d=32, h=32, batch=64, epochs=2, steps_per_epoch=5, overlay=False, dump_rank_weights=True)
    res = train(TrainConfig(device="cuda", **cfg), tmp_path / "gpu")
    train(TrainConfig(device="cpu", **cfg), tmp_path / "cpu")
    # same seed, but the CUDA generator draws a different stream: compare statistics, not weights:
    # the recorded norms are those of the final weights
    w = _weights(tmp_path / "gpu" / "final_rank0.pt")
    assert res["records"][-1]["n_phi"] == pytest.approx(float(w["phi"].double().norm()), rel=1e-12)
    assert res["gpu_utilisation"] is None or 0.0 <= res["gpu_utilisation"] <= 100.0
    res = train(TrainConfig(mode="resnet18", device="cuda", h=64, batch=64, epochs=2, steps_per_epoch=4,
                            eval_size=64, dump_rank_weights=True), tmp_path / "rn")
    rn = _weights(tmp_path / "rn" / "final_rank0.pt")
    assert res["records"][-1]["n_phi"] == pytest.approx(float(rn["fc.weight"].double().norm()), rel=1e-12)
    assert res["images_per_s"] > 0


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("kw,name", [(dict(epochs=0), "epochs"), (dict(mode="vit"), "mode"),
                                     (dict(loss="kl"), "loss"), (dict(rho=-1.0), "rho"),
                                     (dict(mode="resnet18", data_dir="/nonexistent/cifar"), "data-dir"),
                                     (dict(batch=15), "batch")])
def test_bad_config(kw, name):
    with pytest.raises(ParameterError, match=name):
        check_config(TrainConfig(**kw), world=2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu():
    with pytest.raises(ParameterError, match="device"):
        check_config(TrainConfig(device="cuda"))


@pytest.mark.parametrize("argv", [["resnet50", "--out", "x"], ["linear", "--epochs", "0", "--out", "x"],
                                  ["resnet18", "--data-dir", "/nonexistent/cifar", "--out", "x"]]
                         + ([] if torch.cuda.is_available() else [["linear", "--device", "cuda", "--out", "x"]]))
def test_cli_bad_input_exit_2(argv, tmp_path, capsys):
    from sims.cli import main

    try:
        code = main(["validate", *argv])
    except SystemExit as e:      # argparse usage errors
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("ssldyn: error:")


def test_cli_subprocess_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "validate", "linear", "--epochs", "-3",
                        "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "epochs" in r.stderr
