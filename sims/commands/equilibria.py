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

    from ._params import defaults_line, defaults_used, params_from_args

    params = params_from_args(args.model, args)
    p0 = _initial_values(args.p0)
    eq = find_equilibria(params, args.convention)
    out = eq.to_json()
    used = defaults_used(params, args)
    out["defaults_used"] = list(used)
    if p0 is not None:
        out["fates"] = fates(eq, p0, args.convention)
    if args.eigen:
        ee = find_eigen_equilibria(params)
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


def fates(eq, p0, convention: str = "frobenius") -> list:
    """[{"p0", "fate", "end"}]: the fate of each initial value (dynamics.regimes.predict_fate) and
    where it ends: 0 (collapse), the non-zero equilibrium next to it in the direction of the flow
    (converge; the stable one of its two neighbours), or "inf" / "-inf" (diverge)."""
    import numpy as np

    from dynamics.regimes import FATES, predict_fate
    from symbolic.errors import ParameterError

    if convention != "frobenius":
        raise ParameterError(f"--p0 needs --convention frobenius (the fates use the reduced flow's default "
                             f"normalisers); got {convention!r}")
    roots = np.asarray(eq.p, dtype=np.float64)
    out = []
    for x, code in zip(p0, predict_fate(eq.params, p0)):
        fate = FATES[int(code)]
        if fate == "collapse":
            end = 0.0
        elif fate == "diverge":          # past the outermost equilibrium on its side
            end = "inf" if (x > roots.max() if roots.size else x > 0) else "-inf"
        elif x in roots:
            end = float(x)
        else:                            # converge: to a non-zero neighbour, the stable one if two
            stab = dict(zip(roots.tolist(), eq.stability))
            near = [r for r in (roots[roots < x].max(initial=-np.inf), roots[roots > x].min(initial=np.inf))
                    if np.isfinite(r) and r != 0.0]
            end = float(([r for r in near if stab[float(r)] != "unstable"] or near)[0])
        out.append({"p0": float(x), "fate": fate, "end": end})
    return out


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
