"""Shared figure style: colour-blind-safe palette (Okabe-Ito), regime colours, and saving.

Regime colours follow the paper's three intervals: diverge, collapse, converge.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from symbolic.files import write_bytes  # noqa: E402

#: Okabe-Ito colour-blind-safe palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: fates of an initial condition (the background of Bao Fig. 6)
FATE_COLORS = {"diverge": "#D55E00", "collapse": "#999999", "converge": "#0072B2"}
#: regimes (codes 0..3 of dynamics.regimes)
REGIME_COLORS = {"Collapse": "#D55E00", "Acute": "#F0E442", "Stable": "#009E73", "Boundary": "#000000"}

RC = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
      "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
      "axes.prop_cycle": matplotlib.cycler(color=PALETTE)}


def figure(*args, **kwargs):
    """``plt.subplots`` under the project style."""
    with plt.rc_context(RC):
        return plt.subplots(*args, **kwargs)


def save(fig, out_dir, name: str, formats=("png", "pdf")) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` (created); returns the paths.

    Each figure is rendered into memory and written atomically (:func:`symbolic.files.write_bytes`),
    so a killed run leaves the previous file or none, never a truncated one.
    """
    out = Path(out_dir)
    paths = []
    with plt.rc_context(RC):
        fig.tight_layout()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt)
            write_bytes(path, buf.getvalue(), name="figure")
            paths.append(path)
    plt.close(fig)
    return paths
