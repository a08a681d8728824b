"""Model-parameter flags shared by every subcommand that takes a model (equilibria, integrate,
regime-map, bifurcation): one ``--NAME`` per parameter of every registered model
(:mod:`symbolic.registry`, user models from ``--models FILE`` included), e.g. ``--rho --sigma2
--n-phi --n-psi --trace`` (cosine), ``--eta --tau --alpha-p --beta`` (L2), ``--lam`` (two-layer).
Unset flags take the chosen model's dataclass defaults, stated per model in ``--help`` and named
in every command's output (:func:`defaults_used`); a flag that the model does not have is an error
naming it.
"""
from __future__ import annotations

import dataclasses

from symbolic.errors import ParameterError

def model_help(supports: str | None = None) -> str:
    """The --model help: the registered models (with ``supports``, those that have it)."""
    from symbolic.registry import model_names

    return "one of " + ", ".join(model_names(supports))


def fields() -> dict:
    """Flag name (dashes) -> help, for every registered model's parameters (symbolic.registry),
    ending with the default of each model that has the parameter: ``(default: 0.01 for
    cosine-simsiam, ...)`` (the model is not known at parse time)."""
    from symbolic.registry import param_fields, specs

    out = {}
    for f, text in param_fields().items():
        per = {s.name: s.defaults[f] for s in specs() if f in s.fields}
        shown = (f"{next(iter(per.values())):g}" if len(set(per.values())) == 1
                 else ", ".join(f"{v:g} for {m}" for m, v in per.items()))
        out[f.replace("_", "-")] = f"{text} (default: {shown})"
    return out


#: magnitudes a model parameter may take (besides 0): the closed forms raise parameters to powers
#: up to about 8, which keeps every intermediate within double range (1e-308 .. 1e308)
MAGNITUDE = (1e-30, 1e30)


def check_magnitude(flag: str, v: float) -> float:
    """Return ``v`` if it is 0 or finite with ``|v|`` in :data:`MAGNITUDE`, else raise naming ``flag``."""
    lo, hi = MAGNITUDE
    if v != v or not (v == 0 or lo <= abs(v) <= hi):
        raise ParameterError(f"{flag} must be 0 or of magnitude in [{lo:g}, {hi:g}]; got {v!r}")
    return float(v)


def add_model_arguments(p, model_required: bool = True, supports: str | None = None,
                        convention: bool = False) -> None:
    p.add_argument("--model", required=model_required,
                   help=model_help(supports) + ("" if model_required else " (default: none, each figure's own model)"))
    if convention:
        p.add_argument("--convention", default="frobenius",
                       help="cosine normalisers: frobenius (N = ||.||_F) or feature-norm (N = sqrt(1+sigma2) ||.||_F)")
    g = p.add_argument_group("model parameters (unset ones take the model's default, stated below per "
                             "model and named in the output as 'defaults used')")
    for flag, help_ in fields().items():
        g.add_argument(f"--{flag}", type=float, default=None, dest=f"param_{flag.replace('-', '_')}", metavar="X",
                       help=help_.replace("%", "%%"))
    g.add_argument("--init-norms", default=None, metavar="D,H[,SEED]",
                   help="cosine models: n-phi, n-psi and trace of a draw of the linear model's initial weights "
                   "(input dimension D, width H, numpy seed SEED, default 0) instead of the defaults, which are "
                   "the theory notes' worked example; explicit --n-phi/--n-psi/--trace win")


def given_params(args) -> dict:
    """The model-parameter flags set on the command line, as {field: value} (with ``--init-norms``,
    the norms of an initial-weight draw for the fields not set explicitly; said once on stderr)."""
    out = {}
    for flag in fields():
        v = getattr(args, f"param_{flag.replace('-', '_')}", None)
        if v is not None:
            out[flag.replace("-", "_")] = check_magnitude(f"--{flag}", v)
    spec = getattr(args, "init_norms", None)
    if spec:
        norms = init_norms(spec)
        out = {**norms, **out}
        if not getattr(args, "_init_norms_said", False):
            import sys
            print(f"norms from the initial weights (--init-norms {spec}): "
                  + ", ".join(f"{k}={v:.6g}" for k, v in norms.items()), file=sys.stderr)
            args._init_norms_said = True
    return out


def init_norms(spec: str) -> dict:
    """``{n_phi, n_psi, trace}`` of ``--init-norms D,H[,SEED]`` (CosineParams.from_init)."""
    from symbolic.errors import check_int
    from symbolic.params import CosineParams

    parts = spec.split(",")
    if len(parts) not in (2, 3):
        raise ParameterError(f"--init-norms must be D,H[,SEED]; got {spec!r}")
    d = check_int("--init-norms D", parts[0], lo=2, hi=1 << 14)
    h = check_int("--init-norms H", parts[1], lo=2, hi=1 << 14)
    seed = check_int("--init-norms SEED", parts[2], lo=0, hi=2**63 - 1) if len(parts) == 3 else 0
    p = CosineParams.from_init(d, h, seed)
    return {"n_phi": p.n_phi, "n_psi": p.n_psi, "trace": p.trace}


def model_from_args(args, need: str | None = None, what: str | None = None, form: str | None = None):
    """The command's :class:`symbolic.model.Model`: ``--model`` looked up (the command's one
    registry lookup) with ``--convention`` where the command has it, and ``form``; ``need``: a
    capability it must have (the refusal names ``what``)."""
    from symbolic.model import as_model

    m = as_model(args.model, form, getattr(args, "convention", None))
    return m.require(need, what) if need else m


def params_from_args(model, args, **overrides):
    """Build the model's parameter dataclass from the flags (and ``overrides``); ``model``: a
    :class:`symbolic.model.Model` (or a name, looked up here)."""
    from symbolic.model import as_model

    cls = as_model(model).params_class
    names = {f.name for f in dataclasses.fields(cls)}
    values = {**given_params(args), **overrides}
    for k in values:
        if k not in names and k in ("n_phi", "n_psi", "trace") and getattr(args, "init_norms", None):
            raise ParameterError(f"--init-norms sets n-phi, n-psi and trace, which model {model} does not take "
                                 "(the cosine models do)")
        if k not in names:
            raise ParameterError(f"--{k.replace('_', '-')} is not a parameter of model {model} "
                                 f"(its parameters: {', '.join('--' + n.replace('_', '-') for n in sorted(names))})")
    return cls(**values)


def defaults_used(params, args, **overrides) -> dict:
    """The model parameters that took their dataclass default (neither a flag nor ``overrides``
    set them), as {field: value}: the commands name them in their output."""
    given = {**given_params(args), **overrides}
    return {k: v for k, v in params.to_dict().items() if k not in given}


def defaults_line(used: dict) -> str:
    """``defaults used: n_phi=2, n_psi=1.5`` (``defaults used: none`` when every parameter was given)."""
    return "defaults used: " + (", ".join(f"{k}={v:g}" for k, v in used.items()) or "none")
