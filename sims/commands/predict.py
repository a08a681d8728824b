"""Predict the outcome of a linear SimSiam training recipe (collapse / survive / unsettled), without training.

Takes the recipe flags of ``ssldyn validate linear`` (same names and defaults) and prints, or
writes as JSON, ``outcome``, ``collapse_step``, ``lift_step``, ``surviving_modes``, the predicted
top-8 eigenvalues and norms at the end, ``rho_c_init`` (the fixed-norm critical decay at the
initial norms: the classic regime map's answer) and the seconds it took. With torch installed the
initial weights are those ``validate`` draws for ``--seed`` (bit for bit); without it, a numpy draw
of the same distribution (the output's ``init`` says which).
"""
NAME = "predict"
HELP = "predict a linear SimSiam recipe's outcome (collapse / survive / unsettled) without training"

#: the recipe flags shared with ``outcome-map`` (flag, field, type, default, help)
RECIPE_FLAGS = (
    ("--loss", "loss", str, "cosine", "loss: cosine or l2 (default cosine)"),
    ("--rho", "rho", float, 0.01, "weight decay, >= 0 (default 0.01)"),
    ("--sigma2", "sigma2", float, 0.5, "Gaussian augmentation variance, >= 0 (default 0.5)"),
    ("--epochs", "epochs", int, 60, "epochs, >= 1 (default 60, as validate linear)"),
    ("--steps-per-epoch", "steps_per_epoch", int, 100, "steps per epoch, >= 1 (default 100)"),
    ("--batch", "batch", int, 512, "batch size, >= 1 (default 512)"),
    ("--lr", "lr", float, None, "base learning rate, > 0 (default 0.05 x batch/256, as validate)"),
    ("--momentum", "momentum", float, 0.9, "heavy-ball momentum, in [0, 1) (default 0.9)"),
    ("--d", "d", int, 512, "input dimension, >= 2 (default 512)"),
    ("--h", "h", int, 512, "representation dimension, >= 2 (default 512)"),
    ("--seed", "seed", int, 0, "seed of the initial weights, >= 0 (default 0, as validate)"),
)


def add_recipe_arguments(p, skip=()):
    for flag, dest, typ, default, help_ in RECIPE_FLAGS:
        if dest in skip:
            continue
        kw = {"choices": ("cosine", "l2")} if dest == "loss" else {}
        p.add_argument(flag, dest=dest, type=typ, default=default, help=help_, **kw)


def add_arguments(p):
    p.add_argument("mode", choices=("linear", "resnet18"), help="model (the theory applies to linear only)")
    add_recipe_arguments(p)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--out", default=None, help="also write prediction.json into this folder (default: none, print only)")


def recipe_from_args(args, **override):
    """The :class:`dynamics.recipe_outcome.LinearRecipe` of the flags (validate's lr default)."""
    from dynamics.recipe_outcome import LinearRecipe

    values = {dest: getattr(args, dest) for _, dest, *_ in RECIPE_FLAGS if hasattr(args, dest)}
    values.update(override)
    if values.get("lr") is None:
        values["lr"] = 0.05 * values.get("batch", 512) / 256
    return LinearRecipe(**values)


def exact_initial_weights(recipe):
    """``(W0, Phi0, how)``: validate's own draw for the seed when torch is installed, else None."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None, None, None
    from sims.train import TrainConfig
    from sims.trajectory import initial_weights

    cfg = TrainConfig(mode="linear", loss=recipe.loss, rho=recipe.rho, sigma2=recipe.sigma2, epochs=recipe.epochs,
                      steps_per_epoch=recipe.steps_per_epoch, batch=recipe.batch, lr=recipe.lr,
                      momentum=recipe.momentum, d=recipe.d, h=recipe.h, device="cpu", seed=recipe.seed)
    W0, Phi0 = initial_weights(cfg)
    return W0, Phi0, f"validate's initial weights for seed {recipe.seed} (torch generator, bit for bit)"


def check_mode(mode):
    from symbolic.errors import ParameterError

    if mode != "linear":
        raise ParameterError(f"mode must be linear: the recipe theory is for the linear model on Gaussian data; "
                             f"got {mode!r} (train it with ssldyn validate {mode})")


def run(args) -> int:
    import json
    from pathlib import Path

    from dynamics.recipe_outcome import predict_outcome

    check_mode(args.mode)
    recipe = recipe_from_args(args)
    W0, Phi0, how = exact_initial_weights(recipe)
    res = predict_outcome(recipe, W0, Phi0, init=how)
    out = res.to_json()
    if args.out:
        from sims.io import write_json

        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_json(Path(args.out) / "prediction.json", out)
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        print(_text(res))
        if args.out:
            print(f"wrote {Path(args.out) / 'prediction.json'}")
    return 0


def _text(res) -> str:
    r = res.recipe
    head = (f"{r['loss']} loss, d {r['d']}, h {r['h']}, sigma2 {r['sigma2']:g}, rho {r['rho']:g}, lr {r['lr']:g}, "
            f"momentum {r['momentum']:g}, batch {r['batch']}, {r['epochs']} x {r['steps_per_epoch']} steps")
    when = f" at step {res.collapse_step}" if res.collapse_step is not None else ""
    lift = f"; lifted into Acute at step {res.lift_step}" if res.lift_step is not None else ""
    top = ", ".join(f"{x:.4g}" for x in res.p_top8[:4])
    lines = [head,
             f"outcome: {res.outcome}{when}; surviving modes {res.surviving_modes} of {r['h']}{lift}",
             f"classic fixed-norm map at the initial norms: {res.classic_regime} (critical decay {res.rho_c_init:.4g})",
             f"end: top eigenvalues {top}; N_Phi {_g(res.n_phi)}, N_Psi {_g(res.n_psi)}; p4 at the end {_g(res.p_ref)}",
             f"initial weights: {res.init}; {res.seconds:.3f} s"]
    return "\n".join(lines)


def _g(x):
    return "none" if x is None else f"{x:.4g}"
