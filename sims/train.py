r"""SimSiam training for validating the eigenvalue theory (torch; imported lazily by the CLI).

Two models, both with the official SimSiam recipe as default (Chen & He 2021: momentum SGD 0.9,
learning rate :math:`0.05\times\mathrm{batch}/256` with per-epoch cosine annealing, batch 512,
symmetric negative-cosine loss with stop-gradient):

``linear`` (Bao 2023, Section 5.4)
    :math:`x\sim\mathcal N(0,I_d)`, views :math:`x+\epsilon`, :math:`\epsilon\sim\mathcal N(0,\sigma^2I)`,
    :math:`\Phi\in\mathbb R^{h\times d}` with :math:`\Phi_{ij}\sim\mathcal N(0,1/d)`, symmetric head
    :math:`W=(A+A^\top)/2`, :math:`A_{ij}\sim\mathcal N(0,1/h)` (theory notes section 1). Data are
    drawn fresh on the device at every step.
``resnet18`` (Bao 2023, Appendix D.2)
    CIFAR-variant ResNet-18 (3x3 stem, no max-pool) whose last FC is a bias-free linear layer
    :math:`\Phi` (512 -> h), then the head :math:`W` (h x h, bias-free, symmetrised at init).
    SimSiam augmentations run on the device in batch (random resized crop, flip, colour jitter,
    grayscale); bf16 autocast and channels_last on CUDA.

Loss: ``cosine`` :math:`-\tfrac12[\cos(W\Phi x_1,\mathrm{sg}\,\Phi x_2)+\cos(W\Phi x_2,\mathrm{sg}\,\Phi x_1)]`
(Bao eq. 2) or ``l2`` :math:`\tfrac14[\|W\Phi x_1-\mathrm{sg}\,\Phi x_2\|^2+\|W\Phi x_2-\mathrm{sg}\,\Phi x_1\|^2]`
(Bao eq. 1), batch means; weight decay :math:`\rho` through SGD's ``weight_decay`` (the gradient of
:math:`\tfrac\rho2\|\cdot\|_F^2`, Bao eq. 3).

Multi-process: launched by ``torchrun`` (``WORLD_SIZE`` in the environment) the run uses DDP
(NCCL on CUDA, gloo on CPU). Every rank draws the same *global* batch from the same generator
and trains on its slice, so a run on k processes follows the single-process run on the same
global batch (up to float summation order).
"""
from __future__ import annotations

import json
import math
import os
import pickle
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError, check_choice, check_int, check_range

MODES = ("linear", "resnet18")
LOSSES = ("cosine", "l2")
DIGITS_NAME = "sklearn-digits (1797 images, resized 32x32)"
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


@dataclass
class TrainConfig:
    """Everything a run depends on (stored in checkpoints and the summary)."""

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
    checkpoint_every: int = 0      # 0: only at the end / at stop_after
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
        import torch

        if not torch.cuda.is_available():
            raise ParameterError("device must be cpu on this machine (no CUDA device available); got 'cuda'")


# --- models ------------------------------------------------------------------------------
def _torch():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    return torch, nn, F


def symmetric_head(h: int, gen, device):
    r""":math:`W=(A+A^\top)/2`, :math:`A_{ij}\sim\mathcal N(0,1/h)` (theory notes section 1)."""
    torch, _, _ = _torch()
    A = torch.randn(h, h, generator=gen, device=device) / math.sqrt(h)
    return 0.5 * (A + A.T)


def build_model(cfg: TrainConfig, gen, device):
    torch, nn, F = _torch()

    class LinearSimSiam(nn.Module):
        def __init__(self):
            super().__init__()
            self.phi = nn.Parameter(torch.randn(cfg.h, cfg.d, generator=gen, device=device) / math.sqrt(cfg.d))
            self.w = nn.Parameter(symmetric_head(cfg.h, gen, device))

        def phi_matrix(self):
            return self.phi

        def w_matrix(self):
            return self.w

        def embed(self, x):
            return x @ self.phi.T

        def forward(self, x1, x2):
            z1, z2 = x1 @ self.phi.T, x2 @ self.phi.T
            return simsiam_loss(z1 @ self.w.T, z2, z2 @ self.w.T, z1, cfg.loss)

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential()
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = F.relu(self.b1(self.c1(x)))
            return F.relu(self.b2(self.c2(y)) + self.short(x))

    class ResNet18Cifar(nn.Module):
        """He et al. 2016 ResNet-18, CIFAR variant: 3x3 stem, no max-pool; output 512 features."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            return torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1)

    class ResNetSimSiam(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = ResNet18Cifar()
            self.fc = nn.Linear(512, cfg.h, bias=False)      # Phi: features -> h
            self.head = nn.Linear(cfg.h, cfg.h, bias=False)  # W
            with torch.no_grad():
                self.fc.weight.copy_(torch.randn(cfg.h, 512, generator=gen, device=device) / math.sqrt(512))
                self.head.weight.copy_(symmetric_head(cfg.h, gen, device))

        def phi_matrix(self):
            return self.fc.weight

        def w_matrix(self):
            return self.head.weight

        def features(self, x):
            return self.backbone(x).float()

        def embed(self, x):
            return self.fc(self.backbone(x)).float()

        def forward(self, x1, x2):
            z = self.fc(self.backbone(torch.cat([x1, x2])))
            pz = self.head(z)
            n = x1.shape[0]
            return simsiam_loss(pz[:n].float(), z[n:].float(), pz[n:].float(), z[:n].float(), cfg.loss)

    model = LinearSimSiam() if cfg.mode == "linear" else ResNetSimSiam()
    model.to(device)
    if cfg.mode == "resnet18" and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


def simsiam_loss(p1, z2, p2, z1, loss: str):
    """Symmetric SimSiam loss with stop-gradient on the targets ``z`` (see module docstring)."""
    torch, _, F = _torch()
    z1, z2 = z1.detach(), z2.detach()
    if loss == "cosine":
        return -0.5 * (F.cosine_similarity(p1, z2, dim=1).mean() + F.cosine_similarity(p2, z1, dim=1).mean())
    return 0.25 * (((p1 - z2) ** 2).sum(1).mean() + ((p2 - z1) ** 2).sum(1).mean())


# --- data --------------------------------------------------------------------------------
def load_images(data_dir):
    """Training images as uint8 (N, 3, 32, 32) and their name. CIFAR-10 from ``data_dir`` (the
    python batches, read without running code from them: see :func:`_cifar_pickles`), otherwise
    scikit-learn's digits (shipped with it)."""
    if data_dir is None:
        from sklearn.datasets import load_digits

        torch, _, F = _torch()
        img = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0
        img = F.interpolate(img, size=(32, 32), mode="bilinear", align_corners=False)
        img = (img.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1)
        return img.numpy(), DIGITS_NAME
    arr = _cifar_pickles(data_dir)
    return np.ascontiguousarray(arr.transpose(0, 3, 1, 2)), f"CIFAR-10 train ({arr.shape[0]} images)"


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler of the CIFAR-10 python batches that runs no code from the file.

    The batches are dicts of bytes keys, lists, numbers and one NumPy array; rebuilding that
    array needs three globals, ``_reconstruct``, ``ndarray`` and ``dtype`` (under ``numpy.core``
    as written by NumPy 1, or ``numpy._core``); pickle protocol 5 uses ``_frombuffer`` instead,
    protocol 2 written by Python 3 ``_codecs.encode`` (latin-1 only) for bytes. Any other
    global, as a payload calling ``os.system`` would need, is refused before anything is called,
    and so is an object dtype (whose items would be further pickles).
    """

    def find_class(self, module, name):
        root = module.replace("numpy._core.", "numpy.core.")
        found = _PICKLE_GLOBALS.get((root, name))
        if found is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return found


def _plain_dtype(spec, *args):
    d = np.dtype(spec, *args)
    if d.hasobject:
        raise pickle.UnpicklingError(f"object dtype {spec!r} is not allowed")
    return d


def _frombuffer(buf, dtype, shape, order):
    return np.frombuffer(buf, dtype=_plain_dtype(dtype)).reshape(shape, order=order)


def _latin1(text, encoding="latin1"):
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"encoding {encoding!r} is not allowed")
    return text.encode("latin1")


_PICKLE_GLOBALS = {("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
                   ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): _plain_dtype,
                   ("numpy.core.numeric", "_frombuffer"): _frombuffer, ("_codecs", "encode"): _latin1}


def _cifar_pickles(data_dir):
    """CIFAR-10 training images (N, 32, 32, 3) uint8 from the python batches ``data_batch_*``,
    read with :class:`_ArrayUnpickler` (no code from the files runs). A file that is not such a
    batch raises a one-line :class:`ParameterError`."""
    base = Path(data_dir)
    if (base / "cifar-10-batches-py").is_dir():
        base = base / "cifar-10-batches-py"
    files = sorted(base.glob("data_batch_*"))
    if not files:
        raise ParameterError(f"data-dir must hold the CIFAR-10 python batches (data_batch_1..5); got {data_dir!r}")
    parts = []
    for f in files:
        try:
            with open(f, "rb") as fh:
                batch = _ArrayUnpickler(fh, encoding="bytes").load()
            data = batch[b"data"]
            ok = isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072
        except Exception as e:   # every unpickling error, a refused global, a missing key
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise ParameterError(f"data-dir must hold CIFAR-10 python batches; {str(f)!r} is not one "
                                 f"({type(e).__name__}: {first})") from None
        if not ok:
            raise ParameterError(f"data-dir must hold CIFAR-10 python batches; {str(f)!r} has no uint8 "
                                 "(N, 3072) array under b'data'")
        parts.append(data)
    return np.concatenate(parts).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def linear_batch(gen, batch: int, d: int, sigma2: float, device):
    r"""Two views :math:`x+\epsilon`, :math:`x+\epsilon'` of a fresh Gaussian batch."""
    torch, _, _ = _torch()
    x = torch.randn(batch, d, generator=gen, device=device)
    s = math.sqrt(sigma2)
    return (x + s * torch.randn(batch, d, generator=gen, device=device),
            x + s * torch.randn(batch, d, generator=gen, device=device))


N_AUG = 11   # random numbers per image per view


def augment(x, r):
    """SimSiam augmentations in batch on the device (Chen & He 2021, CIFAR recipe).

    ``x``: uint8 (n, 3, 32, 32); ``r``: uniform(0, 1) numbers (n, N_AUG) drawn for the global batch.
    RandomResizedCrop(scale 0.2-1, ratio 3/4-4/3) and horizontal flip as one affine resampling;
    ColorJitter(0.4, 0.4, 0.4, 0.1) with p = 0.8 (hue as a rotation in YIQ); grayscale p = 0.2;
    CIFAR normalisation.
    """
    torch, _, F = _torch()
    n = x.shape[0]
    x = x.float() / 255.0
    area = 0.2 + 0.8 * r[:, 0]
    logr = math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * r[:, 1]
    sw = torch.sqrt(area * torch.exp(logr)).clamp(max=1.0)
    sh = torch.sqrt(area / torch.exp(logr)).clamp(max=1.0)
    cx = (2 * r[:, 2] - 1) * (1 - sw)
    cy = (2 * r[:, 3] - 1) * (1 - sh)
    flip = torch.where(r[:, 4] < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 0, 2] = sw * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = sh, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    k = _constants(x.device)
    lum = k["lum"]

    def gray(y):
        return (y * lum).sum(1, keepdim=True)

    def col(v):
        return v.view(n, 1, 1, 1)

    b = 0.6 + 0.8 * r[:, 5]
    c = 0.6 + 0.8 * r[:, 6]
    s = 0.6 + 0.8 * r[:, 7]
    hue = (r[:, 8] - 0.5) * 0.2 * 2 * math.pi
    y = (x * col(b)).clamp(0, 1)
    m = gray(y).mean(dim=(2, 3), keepdim=True)
    y = ((y - m) * col(c) + m).clamp(0, 1)
    g = gray(y)
    y = ((y - g) * col(s) + g).clamp(0, 1)
    yiq = torch.einsum("ij,njhw->nihw", k["to_yiq"], y)
    cos, sin = torch.cos(hue).view(n, 1, 1), torch.sin(hue).view(n, 1, 1)
    i2 = cos * yiq[:, 1] - sin * yiq[:, 2]
    q2 = sin * yiq[:, 1] + cos * yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], i2, q2], 1)
    y = torch.einsum("ij,njhw->nihw", k["from_yiq"], yiq).clamp(0, 1)
    x = torch.where(col(r[:, 9] < 0.8), y, x)
    x = torch.where(col(r[:, 10] < 0.2), gray(x).expand(-1, 3, -1, -1), x)
    return (x - k["mean"]) / k["std"]


_CONST = {}
_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _constants(device):
    """Per-device constant tensors (created once: no host-to-device copy per step)."""
    key = str(device)
    if key not in _CONST:
        torch, _, _ = _torch()

        def t(a, shape=None):
            v = torch.tensor(np.asarray(a, dtype=np.float32), device=device)
            return v.view(*shape) if shape else v
        _CONST[key] = {"lum": t([0.299, 0.587, 0.114], (1, 3, 1, 1)), "to_yiq": t(_TO_YIQ),
                       "from_yiq": t(np.linalg.inv(_TO_YIQ)), "mean": t(CIFAR_MEAN, (1, 3, 1, 1)),
                       "std": t(CIFAR_STD, (1, 3, 1, 1))}
    return _CONST[key]


def normalise(x):
    k = _constants(x.device)
    return (x.float() / 255.0 - k["mean"]) / k["std"]


# --- training ----------------------------------------------------------------------------
def lr_at(cfg: TrainConfig, epoch: int) -> float:
    r"""Cosine annealing per epoch: :math:`\eta_e=\eta_0\,\tfrac12(1+\cos(\pi e/E))` (SimSiam)."""
    return cfg.base_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / cfg.epochs))


def gpu_utilisation(device):
    """GPU utilisation (percent) now: ``torch.cuda.utilization`` (pynvml), else ``nvidia-smi``."""
    torch, _, _ = _torch()
    try:
        return float(torch.cuda.utilization(device))
    except Exception:
        pass
    import subprocess

    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                            "-i", str(device.index or 0)], capture_output=True, text=True, timeout=10)
        return float(r.stdout.strip().splitlines()[0])
    except Exception:
        return None


def versions() -> dict:
    import platform

    torch, _, _ = _torch()
    out = {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
           "cuda": torch.version.cuda}
    try:
        from importlib.metadata import version
        out["ssldyn"] = version("ssldyn")
    except Exception:  # pragma: no cover
        out["ssldyn"] = "unknown"
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


class Trainer:
    """One run: model, optimiser, generator, data and the per-epoch measurements (rank 0)."""

    def __init__(self, cfg: TrainConfig, out_dir, rank: int = 0, world: int = 1, log=None):
        torch, _, _ = _torch()
        self.cfg, self.rank, self.world = cfg, rank, world
        self.out = Path(out_dir)
        self.log = log or (lambda msg: None)
        if cfg.device == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = False   # measurements need fp32 matmuls (linear)
        else:
            self.device = torch.device("cpu")
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(cfg.seed)
        self.model = build_model(cfg, self.gen, self.device)
        self.images, self.data_name = None, None
        if cfg.mode == "resnet18":
            imgs, self.data_name = load_images(cfg.data_dir)
            self.images = torch.from_numpy(imgs).to(self.device)
            if world > 1 and self.device.type == "cuda":
                self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        else:
            self.data_name = f"Gaussian x ~ N(0, I_{cfg.d}), views x + N(0, {cfg.sigma2:g} I), fresh each step"
        self.ddp = self.model
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.ddp = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if cfg.compile:
            self.ddp = torch.compile(self.ddp)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.base_lr, momentum=cfg.momentum,
                                   weight_decay=cfg.rho)
        self.amp = cfg.mode == "resnet18" and self.device.type == "cuda"
        # a fixed evaluation batch from its own generator (does not disturb the training stream)
        eg = torch.Generator(device=self.device)
        eg.manual_seed(cfg.seed + 10_007)
        if cfg.mode == "linear":
            self.eval_x = torch.randn(cfg.eval_size, cfg.d, generator=eg, device=self.device)
        else:
            n = min(cfg.eval_size, self.images.shape[0])
            self.eval_idx = torch.randperm(self.images.shape[0], generator=eg, device=self.device)[:n]
            self.eval_r = torch.rand(2, n, N_AUG, generator=eg, device=self.device)
        self.start_epoch = 0
        self.train_time = 0.0
        self.train_images = 0
        self.util = []

    # -- steps ----------------------------------------------------------------------------
    def steps_per_epoch(self) -> int:
        if self.cfg.mode == "linear":
            return self.cfg.steps_per_epoch or 100
        full = max(1, self.images.shape[0] // self.cfg.batch)
        return min(full, self.cfg.steps_per_epoch) if self.cfg.steps_per_epoch else full

    def _local(self, t):
        b = t.shape[0] // self.world
        return t[self.rank * b:(self.rank + 1) * b]

    def _step_inputs(self, step, perm):
        torch, _, _ = _torch()
        cfg = self.cfg
        if cfg.mode == "linear":
            x1, x2 = linear_batch(self.gen, cfg.batch, cfg.d, cfg.sigma2, self.device)
            return self._local(x1), self._local(x2)
        idx = self._local(perm[step * cfg.batch:(step + 1) * cfg.batch])
        r = torch.rand(2, cfg.batch, N_AUG, generator=self.gen, device=self.device)
        x = self.images[idx]
        x1, x2 = augment(x, self._local(r[0])), augment(x, self._local(r[1]))
        if self.device.type == "cuda":
            x1 = x1.contiguous(memory_format=torch.channels_last)
            x2 = x2.contiguous(memory_format=torch.channels_last)
        return x1, x2

    def train_epoch(self, epoch: int, on_early=None) -> float:
        torch, _, _ = _torch()
        for g in self.opt.param_groups:
            g["lr"] = lr_at(self.cfg, epoch)
        self.ddp.train()
        perm = None
        if self.cfg.mode == "resnet18":
            perm = torch.randperm(self.images.shape[0], generator=self.gen, device=self.device)
        n = self.steps_per_epoch()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        paused = 0.0
        loss = torch.zeros((), device=self.device)
        for step in range(n):
            x1, x2 = self._step_inputs(step, perm)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                loss = self.ddp(x1, x2)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if on_early is not None and self.cfg.early_every and epoch == 0 and (step + 1) % self.cfg.early_every == 0 \
                    and step + 1 < n:
                ta = time.perf_counter()
                on_early(step + 1, n)
                paused += time.perf_counter() - ta
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            u = gpu_utilisation(self.device)
            if u is not None:
                self.util.append(u)
        dt = time.perf_counter() - t0 - paused
        if epoch > self.start_epoch or self.cfg.epochs - self.start_epoch == 1:   # first epoch is warm-up
            self.train_time += dt
            self.train_images += n * self.cfg.batch
        return float(loss.detach())

    # -- measurements ---------------------------------------------------------------------
    def measure(self) -> dict:
        torch, _, _ = _torch()
        from .measure import collapse_diagnostics, matrix_metrics

        m = self.model
        W = m.w_matrix().detach().double().cpu().numpy()
        Phi = m.phi_matrix().detach().double().cpu().numpy()
        rec = matrix_metrics(W, Phi, self.cfg.top)
        sigma2 = self.cfg.sigma2
        m.eval()
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            if self.cfg.mode == "linear":
                Z = m.embed(self.eval_x)
            else:
                x = self.images[self.eval_idx]
                Z = m.embed(normalise(x))
                f1 = m.features(augment(x, self.eval_r[0])).double()
                f2 = m.features(augment(x, self.eval_r[1])).double()
                f1, f2 = f1 - f1.mean(0), f2 - f2.mean(0)
                cross = float((f1 * f2).sum())
                both = 0.5 * float((f1 * f1).sum() + (f2 * f2).sum())
                # effective sigma^2 of the augmentations in feature space: E|x1|^2 / E<x2, x1> - 1
                sigma2 = both / cross - 1.0 if cross > 0 and math.isfinite(both / cross) else None
                rec["sigma2_eff"] = sigma2
        rec.update(collapse_diagnostics(Z.double().cpu().numpy()))
        if self.cfg.overlay and rec["finite"] and sigma2 is not None:
            from .overlay import overlay

            rec["theory"] = overlay(self.cfg.loss, self.cfg.rho, max(sigma2, 0.0), rec["n_phi"],
                                    rec["n_psi"], rec["trace"], rec["p_top"])
        return rec

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def save_checkpoint(self, epoch: int) -> None:
        torch, _, _ = _torch()
        if self.rank != 0:
            return
        state = {"epoch": epoch, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                 "gen": self.gen.get_state(), "config": asdict(self.cfg), "train_time": self.train_time,
                 "train_images": self.train_images}
        _save_torch(state, self.checkpoint_path())

    def load_checkpoint(self) -> int:
        path = self.checkpoint_path()
        if not path.exists():
            raise ParameterError(f"resume needs a checkpoint in --out; none at {str(path)!r}")
        state = load_checkpoint_file(path, self.device)
        old = state["config"]
        for k in ("mode", "loss", "rho", "sigma2", "batch", "d", "h", "epochs", "seed", "lr", "momentum",
                  "steps_per_epoch"):
            if k not in old:
                raise ParameterError(f"the checkpoint has no {k} to compare with; it cannot be resumed")
            if old[k] != getattr(self.cfg, k):
                raise ParameterError(f"{k.replace('_', '-')} must match the checkpoint ({old[k]!r}) to resume; "
                                     f"got {getattr(self.cfg, k)!r}")
        try:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["opt"])
            self.gen.set_state(state["gen"].to("cpu"))
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ParameterError(f"resume needs a checkpoint of this model; {str(path)!r} does not fit ({first})") from None
        self.train_time, self.train_images = state["train_time"], state["train_images"]
        self.start_epoch = int(state["epoch"])
        return self.start_epoch


#: what a checkpoint holds (checked on load, so a damaged file fails here and not mid-resume)
CHECKPOINT_KEYS = ("epoch", "model", "opt", "gen", "config", "train_time", "train_images")


def _save_torch(obj, path: Path) -> None:
    """``torch.save`` into memory, then :func:`symbolic.files.write_bytes` (atomic, checked path)."""
    import io

    from symbolic.files import write_bytes

    torch, _, _ = _torch()
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_bytes(path, buf.getvalue(), name="checkpoint")


def load_checkpoint_file(path, device="cpu") -> dict:
    """A checkpoint written by :meth:`Trainer.save_checkpoint`, loaded with ``weights_only=True``
    (tensors, dicts, lists and numbers only: loading runs no code from the file).

    A truncated, damaged or foreign file raises a one-line :class:`ParameterError`.
    """
    torch, _, _ = _torch()
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:   # zip/pickle/unpickler errors of every kind: the file is not a checkpoint
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ParameterError(f"resume needs an intact checkpoint; {str(path)!r} cannot be read "
                             f"({type(e).__name__}: {first[:200]})") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing or not isinstance(state["config"], dict) or not hasattr(state["gen"], "to"):
        raise ParameterError(f"resume needs a checkpoint written by ssldyn; {str(path)!r} lacks "
                             f"{', '.join(missing) or 'a config dict and generator state'}")
    return state


def _truncate_metrics(path: Path, epoch: int) -> list:
    """Keep the records up to ``epoch`` (a resumed run rewrites later epochs); the file is
    rewritten atomically, so a kill during the rewrite leaves the old records, not half of them.
    A torn last line (a kill mid-append) is dropped."""
    from symbolic.files import write_text

    if not path.exists():
        return []
    keep = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                keep.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    keep = [r for r in keep if isinstance(r, dict) and isinstance(r.get("epoch"), (int, float)) and r["epoch"] <= epoch]
    write_text(path, "".join(json.dumps(r) + "\n" for r in keep), name="metrics")
    return keep


def train(cfg: TrainConfig, out_dir, rank: int = 0, world: int = 1, log=None) -> dict:
    """Run (or resume) training, writing ``metrics.jsonl`` (rank 0) and checkpoints.

    Returns ``{"records", "data", "images_per_s", "gpu_utilisation", "stopped_early", "diverged"}``.
    """
    torch, _, _ = _torch()
    check_config(cfg, world)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tr = Trainer(cfg, out, rank, world, log)
    metrics = out / "metrics.jsonl"
    records = []
    if cfg.resume:
        tr.load_checkpoint()
        if rank == 0:
            records = _truncate_metrics(metrics, tr.start_epoch)
    elif rank == 0:
        from symbolic.files import write_text

        write_text(metrics, "", name="metrics")
    fh = open(metrics, "a") if rank == 0 else None

    def emit(rec):
        records.append(rec)
        fh.write(json.dumps(rec) + "\n")
        fh.flush()

    diverged = False
    if rank == 0 and tr.start_epoch == 0:
        emit({"epoch": 0, "step": 0, "lr": lr_at(cfg, 0), "loss": None, **tr.measure()})
    last = cfg.stop_after if cfg.stop_after is not None else cfg.epochs
    n_steps = tr.steps_per_epoch()
    epoch = tr.start_epoch
    for epoch in range(tr.start_epoch, last):
        def early(step, n, epoch=epoch):
            if rank == 0:
                emit({"epoch": epoch + step / n, "step": epoch * n + step, "lr": lr_at(cfg, epoch),
                      "loss": None, "early": True, **tr.measure()})
        loss = tr.train_epoch(epoch, early)
        finite = math.isfinite(loss)
        if rank == 0:
            rec = {"epoch": epoch + 1, "step": (epoch + 1) * n_steps, "lr": lr_at(cfg, epoch), "loss": loss,
                   **tr.measure()}
            emit(rec)
            finite = finite and rec["finite"]
            th = rec.get("theory") or {}
            nphi, npsi = (math.nan if rec[k] is None else rec[k] for k in ("n_phi", "n_psi"))
            tr.log(f"epoch {epoch + 1}/{cfg.epochs} loss {loss:.5g} N_Phi {nphi:.6g} "
                   f"N_Psi {npsi:.6g} regime {th.get('regime')}")
        if world > 1:
            flag = torch.tensor([1.0 if finite else 0.0], device=tr.device)
            torch.distributed.broadcast(flag, 0)
            finite = bool(flag.item())
        if not finite:
            diverged = True
            epoch += 1
            break
        if cfg.checkpoint_every and (epoch + 1) % cfg.checkpoint_every == 0:
            tr.save_checkpoint(epoch + 1)
    else:
        epoch = last
    if cfg.stop_after is not None and not diverged:
        tr.save_checkpoint(epoch)
    if fh is not None:
        fh.close()
    if cfg.dump_rank_weights:
        _save_torch({k: v.detach().cpu() for k, v in tr.model.state_dict().items()}, out / f"final_rank{rank}.pt")
    ips = tr.train_images / tr.train_time if tr.train_time > 0 else None
    util = float(np.mean(tr.util)) if tr.util else None
    return {"records": records, "data": tr.data_name, "images_per_s": ips, "gpu_utilisation": util,
            "stopped_early": cfg.stop_after is not None and cfg.stop_after < cfg.epochs,
            "diverged": diverged, "epochs_done": epoch, "world": world}


def train_distributed(cfg: TrainConfig, out_dir, log=None) -> dict:
    """``train`` under torchrun: initialise the process group from the environment."""
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


def config_fields() -> tuple:
    return tuple(f.name for f in fields(TrainConfig))


# --- summary -----------------------------------------------------------------------------
def summarize(cfg: TrainConfig, result: dict, command: str) -> dict:
    """``summary.json``: the issue's named fields plus the run's regime history and end state."""
    recs = [r for r in result["records"] if not r.get("early")]
    first, last = recs[0], recs[-1]
    for r in reversed(recs):   # last finite record for the end state
        if r["finite"]:
            last_finite = r
            break
    else:
        last_finite = first
    th0, th1 = first.get("theory") or {}, last_finite.get("theory") or {}
    basin = th1.get("in_basin_top") if th1.get("ok") else None
    rel = [x for x in (th1.get("rel_dist_p4_top") or []) if x is not None]
    regimes = [(r["epoch"], (r.get("theory") or {}).get("regime")) for r in result["records"]]
    changes = [{"epoch": e, "regime": g} for i, (e, g) in enumerate(regimes) if i == 0 or g != regimes[i - 1][1]]
    acute = [e for e, g in regimes if g == "Acute"]

    def series(key):
        return [r.get(key) for r in recs]

    p0 = np.abs(np.asarray(first["p_top"] or [np.nan]))
    p1 = np.abs(np.asarray(last_finite["p_top"] or [np.nan]))
    import torch

    return {
        "mode": cfg.mode, "loss": cfg.loss, "device": cfg.device,
        "device_name": torch.cuda.get_device_name(0) if cfg.device == "cuda" else "cpu",
        "processes": result["world"],
        "epochs": result["epochs_done"], "epochs_planned": cfg.epochs,
        "steps_per_epoch": recs[1]["step"] - recs[0]["step"] if len(recs) > 1 else None,
        "batch": cfg.batch, "lr": cfg.base_lr, "momentum": cfg.momentum, "rho": cfg.rho, "sigma2": cfg.sigma2, "d": cfg.d, "h": cfg.h,
        "seed": cfg.seed, "data": result["data"],
        "diverged": result["diverged"],
        "basin_fraction_top8": float(np.mean(basin)) if basin else None,
        "median_rel_dist_p4": float(np.median(rel)) if rel else None,
        "initial_regime": th0.get("regime"), "final_regime": th1.get("regime"),
        "critical_initial": th0.get("critical_value"), "critical_final": th1.get("critical_value"),
        "critical_name": th1.get("critical_name") or th0.get("critical_name"),
        "first_acute_epoch": acute[0] if acute else None,
        "regime_changes": changes,
        "p4_final": th1.get("p4"), "p_top_final": last_finite["p_top"], "s_top_final": last_finite["s_top"],
        "p_top_initial": first["p_top"],
        "max_abs_p_ratio_final_initial": float(np.max(p1) / np.max(p0)) if np.all(np.isfinite(p0)) and np.max(p0) > 0 else None,
        "max_abs_p_all_ratio_final_initial": _ratio(last_finite["p"], first["p"]),
        "n_phi": [series("n_phi")[0], last_finite["n_phi"]], "n_psi": [series("n_psi")[0], last_finite["n_psi"]],
        "trace": [series("trace")[0], last_finite["trace"]],
        "asymmetry": {"initial": first["asymmetry"], "final": last_finite["asymmetry"],
                      "max": _nanmax(series("asymmetry"))},
        "commutator": {"initial": first["commutator"], "final": last_finite["commutator"],
                       "max": _nanmax(series("commutator"))},
        "rankme_final": last_finite.get("rankme"), "std_l2_final": last_finite.get("std_l2"),
        "images_per_s": result["images_per_s"], "gpu_utilisation": result["gpu_utilisation"],
        "versions": versions(), "command": command,
    }


def _ratio(p_end, p_start):
    """max_j |p_j| at the end over max_j |p_j| at the start, over all eigenvalues of W."""
    if not p_end or not p_start:
        return None
    a, b = float(np.max(np.abs(p_end))), float(np.max(np.abs(p_start)))
    return a / b if b > 0 else None


def _nanmax(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return max(xs) if xs else None


def main_command() -> str:
    import shlex
    return " ".join(shlex.quote(a) for a in ["ssldyn", *sys.argv[1:]]) if sys.argv else "ssldyn"
