"""Equilibria of a model's reduced flow, their stability, the regime and the critical decay.

--json prints {"model", "params", "regime", "equilibria": [{"p", "stability"}] ascending,
"critical": {"name": "rho_c"|"eta_c", "value"} (value "inf" when the critical decay is unbounded),
"defaults_used": [names of the model parameters that took their default]}, with --p0 also
"fates": [{"p0", "fate", "end"}] (fate one of dynamics.regimes.FATES; end the equilibrium it goes
to, or "inf" / "-inf"): strict JSON (no NaN or Infinity; results whose derived quantities overflow
float64 are an error naming the parameter, exit 2).
"""
NAME = "equilibria"
HELP = "equilibria, stability, regime (Collapse/Acute/Stable/Boundary) and critical weight decay"


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p, supports='equilibria', convention=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--p0", default=None, help="initial values V1,V2,... or START:STOP:N: print each one's fate "
                   "under the reduced flow (diverge / collapse / converge) and the equilibrium it ends at "
                   "(default: none, no fates)")
    p.add_argument("--eigen", action="store_true",
                   help="also the equilibria of the eigen system: (p, s) of one cosine mode, or (p, s, tau) of L2 "
                        "(needs --beta > 0); stability from the Jacobian eigenvalues")


def run(args) -> int:
    import json

    from dynamics.equilibria import find_eigen_equilibria, find_equilibria

    from ._params import defaults_line, defaults_used, model_from_args, params_from_args

    m = model_from_args(args)              # the one lookup: every step below takes the object
    params = params_from_args(m, args)
    p0 = _initial_values(args.p0)
    eq = find_equilibria(params, model=m)
    out = eq.to_json()
    used = defaults_used(params, args)
    out["defaults_used"] = list(used)
    if p0 is not None:
        out["fates"] = fates(eq, p0, m)
    if args.eigen:
        ee = find_eigen_equilibria(params, model=m)
        out["eigen"] = [{"p": float(a), "s": float(b), "stability": st,
                         "jacobian_eigenvalues": [[float(z.real), float(z.imag)] for z in ev]}
                        for a, b, st, ev in zip(ee.p, ee.s, ee.stability, ee.jacobian_eigenvalues)]
        if ee.tau is not None:
            for e, t in zip(out["eigen"], ee.tau):
                e["tau"] = float(t)
    if args.json:
        print(json.dumps(_finite(out), indent=1, allow_nan=False))
        return 0
    print(f"{eq.model} at " + ", ".join(f"{k}={v:g}" for k, v in params.to_dict().items()))
    print(defaults_line(used))
    if eq.critical_value is not None:
        print(f"regime: {eq.regime}; {eq.critical_name} = {eq.critical_value + 0.0:.12g}")   # never -0
    for e in out["equilibria"]:
        print(f"  p = {e['p']: .15g}   {e['stability']}")
    for e in out.get("eigen", []):
        tau = f", tau = {e['tau']:.10g}" if "tau" in e else ""
        print(f"  (p, s) = ({e['p']: .10g}, {e['s']:.10g}){tau}  {e['stability']}  "
              f"eig J = {e['jacobian_eigenvalues']}")
    for f in out.get("fates", []):
        end = f["end"] if isinstance(f["end"], str) else f"{f['end']:.15g}"
        print(f"  p0 = {f['p0']:.10g}: {f['fate']} -> {end}")
    return 0


def _initial_values(text):
    """--p0 as an array (a comma list or START:STOP:N of at most 10,000 values), or None."""
    import numpy as np

    from ._grid import is_list, parse_list

    if text is None:
        return None
    if is_list(text):
        return parse_list("--p0", text)
    from .integrate import _parse_linspace

    return np.linspace(*_parse_linspace("--p0", text, n_max=10_000))


def fates(eq, p0, model) -> list:
    """[{"p0", "fate", "end"}]: the fate of each initial value and where it ends
    (:func:`dynamics.regimes.fate_ends`, in ``model``'s convention), an infinite end as "inf" / "-inf"."""
    from dynamics.regimes import FATES, fate_ends

    codes, ends = fate_ends(eq, p0, model=model)
    return [{"p0": float(x), "fate": FATES[int(c)], "end": float(e) if abs(e) < float("inf") else
             ("inf" if e > 0 else "-inf")} for x, c, e in zip(p0, codes, ends)]


def _finite(obj, path="result"):
    """``obj`` with every float checked finite (the library raises before a NaN gets here; this is
    the last guard, so that the output is always strict JSON)."""
    import math

    from symbolic.errors import ParameterError

    if isinstance(obj, dict):
        return {k: _finite(v, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ParameterError(f"{path} is {obj!r}: not representable in JSON; the parameters overflow float64")
    return obj
