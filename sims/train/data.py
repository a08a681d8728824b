r"""Training data: images for ``resnet18`` and the fresh Gaussian views of ``linear``.

Images are CIFAR-10 from a folder the user gives (its python batches, read through a restricted
unpickler that runs no code from the files), otherwise scikit-learn's digits resized to 32x32.
"""
from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from ._lazy import _torch

DIGITS_NAME = "sklearn-digits (1797 images, resized 32x32)"


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
