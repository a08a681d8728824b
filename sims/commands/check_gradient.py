"""Monte-Carlo check of the cosine closed forms against the real expected gradient.

Draws a commuting (W, Phi) pair, estimates the true per-mode drive (G Phi^T)_jj of the real
cosine loss by sampling (chunked, with a control variate), and prints each closed form's
relative error (paper form, delta form, third-order truncation) with the Monte-Carlo error.
"""
NAME = "check-gradient"
HELP = "compare the closed-form cosine gradient with a Monte-Carlo estimate of the real one"


def add_arguments(p):
    p.add_argument("--model", default="cosine-simsiam", help="cosine-simsiam or cosine-simsiam-delta "
                   "(every closed form is reported either way)")
    p.add_argument("--h", type=float, default=256, help="number of modes (hidden size), 2..8192")
    p.add_argument("--d", type=float, default=None, help="input dimension, h..1e6 (default h)")
    p.add_argument("--samples", type=float, default=1_000_000, help="Monte-Carlo samples (>= 100)")
    p.add_argument("--seed", type=float, default=0, help="seed of the Monte-Carlo draw, >= 0")
    p.add_argument("--sigma2", type=float, default=0.5, help="augmentation variance, [0, inf)")
    p.add_argument("--spectrum", default="init", help="init (as at initialisation) or low-rank "
                   "(a few dominant modes: where the paper form breaks down)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (shown by default on a terminal)")


def run(args) -> int:
    import json
    import math
    import sys

    from symbolic.errors import ParameterError, check_int, check_range
    from symbolic.gradient_check import check_gradient

    from ._paths import check_memory

    samples = check_int("--samples", args.samples, lo=100, hi=10**11)
    h = check_int("--h", args.h, lo=2, hi=8192)
    check_int("--seed", args.seed, lo=0, hi=2**63 - 1)
    check_range("--sigma2", args.sigma2, 0.0, 1e30, hi_open=False)
    if args.d is not None:
        # d < h: Phi Phi^T has h - d zero eigenvalues, whose modes have no drive to compare (0 / 0)
        d = check_int(f"--d (at least --h = {h}: with fewer inputs Phi Phi^T is singular)", args.d, lo=h, hi=10**6)
        check_memory(f"check-gradient with --h {h} --d {d}", 32.0 * h * d)
    bar = None
    if not args.no_progress and not args.json and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=samples, unit="sample", unit_scale=True, file=sys.stderr)
    res = check_gradient(args.model, int(args.h), samples, args.seed, args.sigma2,
                         None if args.d is None else d, args.spectrum,
                         progress=bar.update if bar else None)
    if bar:
        bar.close()
    summ = res.summary()
    bad = [f"{k}.{q}" for k, f in summ["forms"].items() for q, v in f.items() if not math.isfinite(v)]
    if bad or not math.isfinite(summ["median_mc_rel_se"]):
        raise ParameterError(f"check-gradient at --h {h} --d {args.d} --samples {samples}: the statistics "
                             f"{', '.join(bad) or 'median_mc_rel_se'} are not finite (a mode without drive); "
                             f"use more inputs (--d) or modes")
    if args.json:
        print(json.dumps(summ, indent=1))
        return 0
    print(f"h = {res.h}, samples = {res.samples:,}, sigma2 = {res.sigma2}, spectrum = {res.spectrum}; "
          f"median Monte-Carlo relative standard error {summ['median_mc_rel_se']:.2e}")
    print(f"{'form':<12} {'median rel err':>15} {'max rel err':>12} {'median |err|/SE':>16} {'within 5 SE':>12}")
    for name, f in summ["forms"].items():
        print(f"{name:<12} {f['median_rel_error']:>15.3e} {f['max_rel_error']:>12.3e} "
              f"{f['median_z']:>16.2f} {f['frac_within_5se']:>11.0%}")
    return 0
