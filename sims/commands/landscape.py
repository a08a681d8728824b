"""Stationary points of an SSL loss landscape (Ziyin et al.), commuting case, per mode.

--json prints {"loss", "b": [...], "lambda": [eigenvalues of W^T W per mode], "collapsed":
[bool per mode], "n_crit": [...] (weighted-infonce-paper only: with the exact coefficient of the
printed eq. 3 the augmentation term cancels and nothing depends on N that way)}.

--quartic derived replaces Theorem 1's decoupled quartic by the one the cumulant expansion gives
(dynamics.infonce_quartic: 3/4 of it at large N plus 1/N mode coupling) for the InfoNCE losses
(weighted-infonce-paper is then eq. 3 with the self term, weighted-infonce-exact eq. 3 as printed);
it needs --n and adds "quartic": "derived" to the JSON.
"""
NAME = "landscape"
HELP = "closed-form stationary points of contrastive / non-contrastive loss landscapes"


def add_arguments(p):
    p.add_argument("--loss", required=True, help="infonce, weighted-infonce-paper, weighted-infonce-exact, "
                   "barlow-twins, spectral or vicreg")
    p.add_argument("--a", required=True, help="data-covariance eigenvalues A1,A2,... (> 0)")
    p.add_argument("--c", required=True, help="augmentation-covariance eigenvalues C1,C2,... (>= 0)")
    p.add_argument("--alpha", type=float, default=0.0, help="weighted InfoNCE alpha, [0, 1]")
    p.add_argument("--n", type=float, default=None, help="dataset size N (weighted InfoNCE; needed there and by --quartic derived) "
                   "(default: none)")
    p.add_argument("--gamma", type=float, default=0.0, help="weight decay gamma, [0, inf)")
    p.add_argument("--d-star", type=float, default=None, help="representation dimension d* (rank limit) (default: none, no limit)")
    p.add_argument("--normalize", type=float, default=None, metavar="C",
                   help="per-sample normalisation target c (Props. 2-3) (default: none, no normalisation)")
    p.add_argument("--kappa", default="inf", help="normalisation strength kappa (a number or inf)")
    p.add_argument("--quartic", default="theorem1", help="theorem1 (default: Ziyin's Theorem 1) or derived "
                   "(the cumulant expansion's quartic with 1/N mode coupling; InfoNCE losses, needs --n)")
    p.add_argument("--json", action="store_true", help="print the modes as one JSON object")


#: --loss -> the atom weights of dynamics.infonce_quartic
QUARTIC_VARIANTS = {"infonce": "infonce", "weighted-infonce-paper": "weighted-self",
                    "weighted-infonce-exact": "weighted-printed"}


def _floats(flag, text):
    from symbolic.errors import ParameterError, check_range

    from ._params import check_magnitude

    try:
        vals = [check_range(flag, x) for x in text.split(",")]
    except ParameterError:
        raise ParameterError(f"{flag} must be comma-separated numbers; got {text!r}") from None
    if len(vals) > 100_000:
        raise ParameterError(f"{flag} must have at most 100000 entries; got {len(vals)}")
    return [check_magnitude(flag, v) for v in vals]


def run(args) -> int:
    import json
    import math

    import numpy as np

    from dynamics.infonce_quartic import coupled_lambda, quartic_matrix
    from dynamics.landscape import b_vector, commuting_lambda, n_crit, normalized_lambda
    from symbolic.errors import ParameterError, check_choice, check_int, check_range

    from ._params import check_magnitude

    a, c = _floats("--a", args.a), _floats("--c", args.c)
    if len(a) != len(c):
        raise ParameterError(f"--a and --c must have the same length; got {len(a)} and {len(c)}")
    for x in a:
        check_range("--a", x, 0.0, math.inf, lo_open=True)
    for x in c:
        check_range("--c", x, 0.0, math.inf)
    alpha = check_range("--alpha", args.alpha, 0.0, 1.0, hi_open=False)
    gamma = check_magnitude("--gamma", check_range("--gamma", args.gamma, 0.0, math.inf))
    for flag, v in (("--n", args.n), ("--normalize", args.normalize)):
        if v is not None:
            check_magnitude(flag, v)
    if args.kappa != "inf":
        check_magnitude("--kappa", check_range("--kappa", args.kappa, 0.0, math.inf, lo_open=True))
    d_star = None if args.d_star is None else check_int("--d-star", args.d_star, lo=1)
    b = b_vector(args.loss, a, c, alpha, args.n, gamma)
    s = np.asarray(a) + np.asarray(c)
    check_choice("--quartic", args.quartic, ("theorem1", "derived"))
    if args.quartic == "derived":
        variant = QUARTIC_VARIANTS.get(args.loss)
        if variant is None:
            raise ParameterError(f"--quartic derived needs --loss one of {', '.join(QUARTIC_VARIANTS)}; got {args.loss}")
        if args.n is None or args.normalize is not None or d_star is not None:
            raise ParameterError("--quartic derived needs --n and takes neither --normalize nor --d-star")
        M = quartic_matrix(a, c, check_range("--n", args.n, 2.0), variant, 1.0 if variant == "infonce" else alpha)
        lam = coupled_lambda(b, M)
    elif args.normalize is not None:
        kappa = math.inf if args.kappa == "inf" else check_range("--kappa", args.kappa, 0.0, math.inf, lo_open=True)
        lam, _ = normalized_lambda(b, s, check_range("--normalize", args.normalize, 0.0, math.inf, lo_open=True), kappa)
    else:
        lam = commuting_lambda(b, s, d_star)
    out = {"loss": args.loss, "b": b.tolist(), "lambda": lam.tolist(), "collapsed": [bool(x <= 0) for x in lam]}
    if args.quartic == "derived":
        out["quartic"] = "derived"
    if args.loss == "weighted-infonce-paper":      # the printed eq. 3 (exact coefficient) has no C term: no N_crit
        out["n_crit"] = n_crit(a, c, alpha).tolist()
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for i, (bi, li) in enumerate(zip(out["b"], out["lambda"])):
            print(f"mode {i}: b = {bi:.6g}, lambda = {li:.6g}" + ("  collapsed" if li <= 0 else ""))
    return 0
