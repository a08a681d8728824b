r"""SimSiam training for validating the eigenvalue theory (torch, imported lazily: ``import
sims.train`` works without torch; the CLI imports it only for ``validate``).

Two models, both with the official SimSiam recipe as default (Chen & He 2021: momentum SGD 0.9,
learning rate :math:`0.05\times\mathrm{batch}/256` with per-epoch cosine annealing, batch 512,
symmetric negative-cosine loss with stop-gradient):

``linear`` (Bao 2023, Section 5.4)
    :math:`x\sim\mathcal N(0,I_d)`, views :math:`x+\epsilon`, :math:`\epsilon\sim\mathcal N(0,\sigma^2I)`,
    drawn fresh on the device at every step.
``resnet18`` (Bao 2023, Appendix D.2)
    CIFAR-variant ResNet-18 with a linear :math:`\Phi` and head :math:`W`; SimSiam augmentations
    run on the device in batch; bf16 autocast and channels_last on CUDA.

Modules, one concern each:

``config``       :class:`TrainConfig`, :func:`check_config`, the cosine schedule :func:`lr_at`
``models``       the linear and ResNet-18 SimSiam models, :func:`symmetric_head`, :func:`simsiam_loss`
``data``         CIFAR-10 through a restricted unpickler, scikit-learn digits, :func:`linear_batch`
``augment``      :func:`augment`, :func:`normalise` and their constants
``checkpoints``  ``checkpoint.pt`` and ``metrics.jsonl`` on disk
``trainer``      :class:`Trainer`, :func:`train`
``distributed``  :func:`train_distributed` (torchrun), :func:`spawn_gloo` (gloo, tests)
``summary``      :func:`summarize` (``summary.json``) and :func:`main_command`

Every name other modules use is re-exported here, so ``from sims.train import X`` is the import.
"""
from ..io import versions
from .augment import CIFAR_MEAN, CIFAR_STD, N_AUG, augment, normalise
from .checkpoints import CHECKPOINT_KEYS, _save_torch, _truncate_metrics, load_checkpoint_file
from .config import LOSSES, MODES, TrainConfig, check_config, lr_at
from .data import DIGITS_NAME, _ArrayUnpickler, _cifar_pickles, linear_batch, load_images
from .models import build_model, simsiam_loss, symmetric_head
from .summary import main_command, summarize
from .distributed import spawn_gloo, train_distributed
from .trainer import Trainer, gpu_utilisation, train

__all__ = ["CHECKPOINT_KEYS", "CIFAR_MEAN", "CIFAR_STD", "DIGITS_NAME", "LOSSES", "MODES", "N_AUG",
           "TrainConfig", "Trainer", "_ArrayUnpickler", "_cifar_pickles", "_save_torch", "_truncate_metrics",
           "augment", "build_model", "check_config", "gpu_utilisation", "linear_batch", "load_checkpoint_file",
           "load_images", "lr_at", "main_command", "normalise", "simsiam_loss", "spawn_gloo", "summarize",
           "symmetric_head", "train", "train_distributed", "versions"]
