"""The measured numbers of a training reproduction, written beside its figure as ``<stem>.json``.

The file holds ``acceptance`` (the checks the reproduction is meant to pass, as numbers and
booleans), ``numbers`` (everything the figure plots: measured next to theory) and the versions
that produced them (:func:`sims.io.versions`); it is written atomically, so a crash never leaves half a file.
"""
from __future__ import annotations

from pathlib import Path

from ..io import versions, write_json


def save_numbers(out_dir, stem: str, acceptance: dict, numbers) -> Path:
    """Write ``out_dir/<stem>.json`` and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_json(out / f"{stem}.json", {
        "figure": stem, "acceptance": acceptance, "numbers": numbers,
        "versions": versions()})
