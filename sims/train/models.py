r"""The two SimSiam models and their loss (torch, imported lazily).

``linear`` (Bao 2023, Section 5.4)
    :math:`z=\Phi x`, :math:`\Phi\in\mathbb R^{h\times d}` with :math:`\Phi_{ij}\sim\mathcal N(0,1/d)`,
    symmetric head :math:`W=(A+A^\top)/2`, :math:`A_{ij}\sim\mathcal N(0,1/h)` (theory notes section 1).
``resnet18`` (Bao 2023, Appendix D.2)
    CIFAR-variant ResNet-18 (3x3 stem, no max-pool) whose last FC is a bias-free linear layer
    :math:`\Phi` (512 -> h), then the head :math:`W` (h x h, bias-free, symmetrised at init);
    channels_last on CUDA.

Loss: ``cosine`` :math:`-\tfrac12[\cos(W\Phi x_1,\mathrm{sg}\,\Phi x_2)+\cos(W\Phi x_2,\mathrm{sg}\,\Phi x_1)]`
(Bao eq. 2) or ``l2`` :math:`\tfrac14[\|W\Phi x_1-\mathrm{sg}\,\Phi x_2\|^2+\|W\Phi x_2-\mathrm{sg}\,\Phi x_1\|^2]`
(Bao eq. 1), batch means.
"""
from __future__ import annotations

import math

from ._lazy import _torch
from .config import TrainConfig


def symmetric_head(h: int, gen, device):
    r""":math:`W=(A+A^\top)/2`, :math:`A_{ij}\sim\mathcal N(0,1/h)` (theory notes section 1)."""
    torch, _, _ = _torch()
    A = torch.randn(h, h, generator=gen, device=device) / math.sqrt(h)
    return 0.5 * (A + A.T)


def build_model(cfg: TrainConfig, gen, device):
    torch, nn, F = _torch()

    class LinearSimSiam(nn.Module):  # type: ignore[name-defined]  # nn: torch.nn, imported lazily
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

    class BasicBlock(nn.Module):  # type: ignore[name-defined]  # nn: torch.nn, imported lazily
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

    class ResNet18Cifar(nn.Module):  # type: ignore[name-defined]  # nn: torch.nn, imported lazily
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

    class ResNetSimSiam(nn.Module):  # type: ignore[name-defined]  # nn: torch.nn, imported lazily
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
