"""Model-parameter flags shared by every subcommand that takes a model (equilibria, integrate,
regime-map, bifurcation, sweep): ``--rho --sigma2 --n-phi --n-psi --trace`` (cosine),
``--sum-p0s2 .. --sum-p4s2`` (cosine delta), ``--eta --tau --alpha-p --beta`` (L2), ``--lam``
(two-layer). Unset flags take the dataclass defaults; a flag that the model does not have is an
error naming it.
"""
from __future__ import annotations

import dataclasses

from symbolic.errors import ParameterError

MODEL_HELP = "cosine-simsiam, cosine-simsiam-delta, l2-byol or two-layer"

#: flag name (dashes) -> field name, for every model's fields
FIELDS = {
    "rho": "weight decay rho (cosine), [0, inf)", "sigma2": "augmentation variance sigma^2, [0, inf)",
    "n-phi": "N_Phi = ||Phi||_F (cosine), (0, inf)", "n-psi": "N_Psi = ||W Phi||_F (cosine), (0, inf)",
    "trace": "T = tr(W Phi Phi^T) (cosine)",
    **{f"sum-p{m}s2": f"sum_k p_k^{m} s_k^2 (cosine delta model)" for m in range(5)},
    "eta": "weight decay eta (L2), [0, inf)", "tau": "target ratio tau (L2; 1 = SimSiam)",
    "alpha-p": "predictor learning-rate ratio alpha_p (L2), (0, inf)", "beta": "EMA rate beta (L2)",
    "lam": "lambda = v^T X v (two-layer)",
}


#: magnitudes a model parameter may take (besides 0): the closed forms raise parameters to powers
#: up to about 8, which keeps every intermediate within double range (1e-308 .. 1e308)
MAGNITUDE = (1e-30, 1e30)


def check_magnitude(flag: str, v: float) -> float:
    """Return ``v`` if it is 0 or finite with ``|v|`` in :data:`MAGNITUDE`, else raise naming ``flag``."""
    lo, hi = MAGNITUDE
    if v != v or not (v == 0 or lo <= abs(v) <= hi):
        raise ParameterError(f"{flag} must be 0 or of magnitude in [{lo:g}, {hi:g}]; got {v!r}")
    return float(v)


def add_model_arguments(p, model_required: bool = True) -> None:
    p.add_argument("--model", required=model_required, help=MODEL_HELP)
    g = p.add_argument_group("model parameters (defaults: the theory notes' worked examples)")
    for flag, help_ in FIELDS.items():
        g.add_argument(f"--{flag}", type=float, default=None, dest=f"param_{flag.replace('-', '_')}", help=help_)


def field_name(name: str, model: str | None = None) -> str:
    """Accept 'n-psi', 'n_psi' (and kernel names such as 'N_Psi', 'T') and return the field name;
    with ``model``, refuse a field that is not one of that model's parameters."""
    from dynamics.params import PARAMS, params_class

    key = name.replace("-", "_")
    classes = [params_class(model)] if model is not None else list(PARAMS.values())
    for cls in classes:
        if key in {f.name for f in dataclasses.fields(cls)}:
            return key
        if name in cls.KERNEL_NAMES:
            return cls.KERNEL_NAMES[name]
    if model is not None:
        names = sorted(f.name.replace("_", "-") for f in dataclasses.fields(classes[0]))
        raise ParameterError(f"{name!r} is not a parameter of model {model} (its parameters: {', '.join(names)})")
    raise ParameterError(f"unknown parameter {name!r}; known: {', '.join(FIELDS)}")


def given_params(args) -> dict:
    """The model-parameter flags set on the command line, as {field: value}."""
    out = {}
    for flag in FIELDS:
        v = getattr(args, f"param_{flag.replace('-', '_')}", None)
        if v is not None:
            out[flag.replace("-", "_")] = check_magnitude(f"--{flag}", v)
    return out


def params_from_args(model: str, args, **overrides):
    """Build the model's parameter dataclass from the flags (and ``overrides``)."""
    from dynamics.params import params_class

    cls = params_class(model)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {**given_params(args), **overrides}
    for k in values:
        if k not in names:
            raise ParameterError(f"--{k.replace('_', '-')} is not a parameter of model {model} "
                                 f"(its parameters: {', '.join('--' + n.replace('_', '-') for n in sorted(names))})")
    return cls(**values)
