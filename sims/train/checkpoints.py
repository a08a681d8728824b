"""The files of a run on disk: ``checkpoint.pt`` (written atomically, loaded with
``weights_only=True`` so loading runs no code) and the trimming of ``metrics.jsonl`` on resume."""
from __future__ import annotations

import json
from pathlib import Path

from symbolic.errors import ParameterError

from ._lazy import _torch


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
    problem = _counters_problem(state) or _optimizer_problem(state["model"], state["opt"], torch)
    if problem:
        raise ParameterError(f"resume needs a checkpoint written by ssldyn; in {str(path)!r} {problem}")
    return state


#: the buffers (not parameters) of torch's modules that a model's state dict holds (BatchNorm)
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _counters_problem(state) -> str | None:
    """What is wrong with the checkpoint's counters (``epoch``, ``train_images``: integers >= 0;
    ``train_time``: a finite number >= 0), or None."""
    import math
    import numbers

    for key, kind in (("epoch", numbers.Integral), ("train_images", numbers.Integral), ("train_time", numbers.Real)):
        v = state[key]
        if isinstance(v, bool) or not isinstance(v, kind) or not (0 <= v < math.inf):
            what = "an integer" if kind is numbers.Integral else "a finite number"
            return f"{key} must be {what} >= 0; got {type(v).__name__} {v!r:.40}"
    return None


def _optimizer_problem(model, opt, torch) -> str | None:
    """What makes the optimizer state ``opt`` not fit the model's state dict ``model`` (every
    tensor of a parameter's state, e.g. its momentum buffer, shaped as that parameter), or None.
    Parameters are the model's tensors other than BatchNorm's buffers, in order (as
    ``model.parameters()`` lists them and the optimizer numbers them)."""
    if not isinstance(model, dict) or not isinstance(opt, dict) or not isinstance(opt.get("state"), dict) \
            or not isinstance(opt.get("param_groups"), list):
        return "the model or optimizer state is not a state dict"
    params = [t for name, t in model.items() if not str(name).endswith(_BUFFERS)]
    if not all(isinstance(t, torch.Tensor) for t in params):
        return "the model state holds a value that is not a tensor"
    try:
        ids = [i for g in opt["param_groups"] for i in g["params"]]
    except (TypeError, KeyError):
        return "the optimizer's param_groups do not list parameters"
    if sorted(ids) != list(range(len(params))):
        return f"the optimizer numbers {len(ids)} parameters, the model has {len(params)}"
    for i, entry in opt["state"].items():
        if i not in ids or not isinstance(entry, dict):
            return f"the optimizer state has an entry {i!r} for no parameter"
        for key, v in entry.items():
            if isinstance(v, torch.Tensor) and v.ndim and v.shape != params[ids.index(i)].shape:
                return (f"the optimizer's {key} of parameter {i} has shape {tuple(v.shape)}, the parameter "
                        f"{tuple(params[ids.index(i)].shape)}")
    return None


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
