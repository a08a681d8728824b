"""Print the derived ODEs of a model: its matrix, eigenvalue or reduced form.

--format json prints one object {"model", "form", "state", "params", "rhs": {state: srepr},
"latex": {state: latex}} (plus invariants, the equilibrium polynomial and symbol definitions).
--format latex prints one equation a line, ``\\dot{\\tau} = ...`` (comments start with %), the
invariants as :math:`\\frac{d}{dt}(I)=r\\,I`; --format python prints an importable module (a
``rhs_<state>`` function per state variable with the parameters as arguments; ``import math``).
"""
NAME = "derive"
HELP = "derive a model's ODEs symbolically and print them (latex, python or json)"



def add_arguments(p):
    from ._params import model_help

    p.add_argument("--model", required=True, help=model_help())
    p.add_argument("--form", default="reduced", help="matrix, eigen or reduced (default reduced)")
    p.add_argument("--format", default="latex", dest="fmt", help="latex (one equation a line), python (an importable module) or json")
    p.add_argument("--convention", default="frobenius",
                   help="cosine normalizers: frobenius (N = ||.||_F, default) or feature-norm "
                        "(N = sqrt(1+sigma2) ||.||_F)")
    p.add_argument("--no-cache", action="store_true", help="derive afresh, ignoring the disk cache")


def run(args) -> int:
    import json
    import sys

    from symbolic.errors import check_choice
    from symbolic.models import derive

    check_choice("--format", args.fmt, ("latex", "python", "json"))
    d = derive(args.model, args.form, args.convention, use_cache=not args.no_cache)
    if args.fmt == "json":
        print(json.dumps(d.to_json(), indent=1))
        return 0
    if args.fmt == "python":
        sys.stdout.write(d.python())
        return 0
    print(f"% {d.model}, {d.form} form; state {', '.join(d.state)}; params {', '.join(d.params)}")
    for eq in d.latex_equations().values():
        print(eq)
    for k, v in d.latex_invariants().items():
        print(f"% invariant {k}:")
        print(v)
    return 0
