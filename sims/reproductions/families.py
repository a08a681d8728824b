"""``python -m sims.reproductions.families --out DIR [--only barlow|directset]``: the training
checks of the two families (:mod:`sims.reproductions.simon`, :mod:`sims.reproductions.directset`),
drawn by :mod:`figures.families` and written with their numbers (torch, CPU, seeded)."""
from __future__ import annotations

import argparse
import sys

from figures.families import _thin, draw_barlow, draw_barlow_phase_line, draw_directset, draw_directset_phase_lines


def main(argv=None) -> int:
    from . import directset, simon
    from .report import save_numbers

    from symbolic.errors import ParameterError

    ap = argparse.ArgumentParser(prog="python -m sims.reproductions.families")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", choices=("barlow", "directset"), default=None)
    ap.add_argument("--dim", type=int, default=16, help="Barlow Twins: embedding modes, at most the input "
                    "dimension 64 (default 16)")
    ap.add_argument("--modes", type=int, default=8, help="Barlow Twins: modes compared (default 8)")
    ap.add_argument("--alpha", type=float, action="append", default=None,
                    help="DirectSet: predictor power(s) alpha > 0 (default 0.5 and 1)")
    a = ap.parse_args(argv)
    try:
        return _run(a, simon, directset, save_numbers)
    except ParameterError as e:
        sys.stderr.write(f"python -m sims.reproductions.families: error: {' '.join(str(e).split())}\n")
        return 2


def _run(a, simon, directset, save_numbers) -> int:
    for v in a.alpha or ():
        if not v > 0:
            from symbolic.errors import ParameterError

            raise ParameterError(f"--alpha must be in (0, inf); got {v!r}")
    if a.only in (None, "barlow"):
        x1, _ = simon.digit_pairs()
        if not 1 <= a.dim <= x1.shape[1]:
            from symbolic.errors import ParameterError

            raise ParameterError(f"--dim (embedding modes) must be an integer in [1, {x1.shape[1]}] (the input "
                                 f"dimension); got {a.dim}")
        draw_barlow_phase_line(a.out)
        r = simon.stepwise(dim=a.dim, modes=a.modes)
        draw_barlow(r, a.out)
        save_numbers(a.out, "barlow_stepwise", r["acceptance"], _thin(r, 10, drop=("theory",)))
    if a.only in (None, "directset"):
        draw_directset_phase_lines(a.out)
        r = directset.toy(tuple(a.alpha)) if a.alpha else directset.toy()
        draw_directset(r, a.out)
        save_numbers(a.out, "directset_toy", r["acceptance"], _thin(r, 25, drop=("euler",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
