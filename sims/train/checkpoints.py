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
