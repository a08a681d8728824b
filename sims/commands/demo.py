"""The main job on a built-in default: the regime of the default cosine model, and one figure.

Defaults are the theory notes' worked example (rho 0.01, sigma2 0.5, N_Phi 2, N_Psi 1.5, T 0.5).
The figure goes into ``--out DIR`` (created when missing; files already there are left alone,
but for the demo's own two, which are replaced), or without ``--out`` into a new temporary folder
whose path is printed: never into the current folder unasked.
"""
NAME = "demo"
HELP = "print the regime of the default cosine model and write its phase-line figure"


def add_arguments(p):
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the figure (default: a new temporary folder, printed)")


def run(args) -> int:
    import tempfile

    from dynamics.equilibria import find_equilibria
    from dynamics.params import CosineParams
    from figures.demo import phase_line

    from ._params import defaults_line

    params = CosineParams()
    eq = find_equilibria(params)
    print(f"cosine-simsiam at {params.to_dict()}")
    print(defaults_line(params.to_dict()))
    print(f"regime: {eq.regime}   ({eq.critical_name} = {eq.critical_value:.6g}; rho = {params.rho:g})")
    for x, st in zip(eq.p, eq.stability):
        print(f"  equilibrium p = {x: .12g}  {st}")
    out = args.out if args.out is not None else tempfile.mkdtemp(prefix="ssldyn-demo-")
    if args.out is None:
        print(f"output folder (new, temporary): {out}")
    paths = phase_line(params, eq, out)
    print("figure: " + ", ".join(str(x) for x in paths))
    return 0
