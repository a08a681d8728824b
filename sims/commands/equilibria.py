"""Equilibria of a model's reduced flow, their stability, the regime and the critical decay.

--json prints {"model", "params", "regime", "equilibria": [{"p", "stability"}] ascending,
"critical": {"name": "rho_c"|"eta_c", "value"}}: strict JSON (no NaN or Infinity; results whose
derived quantities overflow float64 are an error naming the parameter, exit 2).
"""
NAME = "equilibria"
HELP = "equilibria, stability, regime (Collapse/Acute/Stable/Boundary) and critical weight decay"


def add_arguments(p):
    from ._params import add_model_arguments

    p.add_argument("--convention", default="frobenius",
                   help="cosine normalisers: frobenius (N = ||.||_F, default) or feature-norm (N = sqrt(1+sigma2) ||.||_F)")
    add_model_arguments(p, supports='equilibria')
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--eigen", action="store_true",
                   help="also the equilibria of the eigen system: (p, s) of one cosine mode, or (p, s, tau) of L2 "
                        "(needs --beta > 0); stability from the Jacobian eigenvalues")


def run(args) -> int:
    import json

    from dynamics.equilibria import find_eigen_equilibria, find_equilibria

    from ._params import params_from_args

    params = params_from_args(args.model, args)
    eq = find_equilibria(params, args.convention)
    out = eq.to_json()
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
    print(f"regime: {eq.regime}; {eq.critical_name} = {eq.critical_value:.12g}")
    for e in out["equilibria"]:
        print(f"  p = {e['p']: .15g}   {e['stability']}")
    for e in out.get("eigen", []):
        tau = f", tau = {e['tau']:.10g}" if "tau" in e else ""
        print(f"  (p, s) = ({e['p']: .10g}, {e['s']:.10g}){tau}  {e['stability']}  "
              f"eig J = {e['jacobian_eigenvalues']}")
    return 0


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
