"""torch, ``torch.nn`` and ``torch.nn.functional``, imported on first use.

Every module of :mod:`sims.train` calls :func:`_torch` inside its functions, so ``import
sims.train`` (and the CLI's ``--help``) works on a machine without torch.
"""


def _torch():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    return torch, nn, F
