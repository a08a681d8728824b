"""SimSiam image augmentations in batch on the device, CIFAR normalisation and their constants."""
from __future__ import annotations

import math

import numpy as np

from ._lazy import _torch

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)

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
