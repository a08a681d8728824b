"""Train SimSiam (linear model or ResNet-18) and compare its eigenvalues with the theory.

Writes into --out: metrics.jsonl (one JSON line per epoch, flushed; early lines marked "early"),
summary.json (mode, loss, device, epochs, basin_fraction_top8, median_rel_dist_p4,
initial_regime, final_regime, images_per_s, gpu_utilisation, data, versions, command, ...),
checkpoint.pt (with --checkpoint-every / --stop-after) and the figures validation_*.png/pdf.
Multi-GPU: torchrun --nproc_per_node N -m sims.cli validate ... (DDP; gloo on CPU); spell --d and
--h as --input-dim and --rep-dim there (torchrun's parser reads --d/--h as its own abbreviations).
"""
NAME = "validate"
HELP = "train SimSiam (linear / resnet18) and overlay the predicted regimes on measured eigenvalues"


def add_arguments(p):
    p.add_argument("mode", choices=("linear", "resnet18"), help="model")
    p.add_argument("--loss", choices=("cosine", "l2"), default="cosine", help="SimSiam's loss: cosine or l2")
    p.add_argument("--rho", type=float, default=0.01, help="weight decay (default 0.01)")
    p.add_argument("--sigma2", type=float, default=0.5, help="Gaussian augmentation variance (linear; default 0.5)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: linear 60, resnet18 100)")
    p.add_argument("--steps-per-epoch", type=int, default=None,
                   help="steps per epoch (linear: default 100; resnet18: default one pass over the data, else a cap)")
    p.add_argument("--batch", type=int, default=512, help="global batch (default 512)")
    p.add_argument("--lr", type=float, default=None, help="base learning rate (default 0.05 x batch/256)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD (heavy-ball) momentum, in [0, 1)")
    p.add_argument("--d", "--input-dim", dest="d", type=int, default=512,
                   help="input dimension (linear; default 512); --input-dim under torchrun, whose own "
                   "parser takes --d as an abbreviation")
    p.add_argument("--h", "--rep-dim", dest="h", type=int, default=512,
                   help="representation dimension (default 512); --rep-dim under torchrun")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch device")
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 root (resnet18); default: scikit-learn's digits, shipped with it")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights, batches and augmentations, >= 0")
    p.add_argument("--checkpoint-every", type=int, default=0, help="checkpoint every N epochs (0: never)")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    p.add_argument("--stop-after", type=int, default=None, help="stop (with a checkpoint) after this epoch "
                   "(default: none, run every epoch)")
    p.add_argument("--early-every", type=int, default=0, help="also measure every k steps in epoch 1")
    p.add_argument("--eval-size", type=int, default=1024, help="outputs used for collapse diagnostics")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step (CUDA)")
    p.add_argument("--no-overlay", action="store_true", help="skip the theory overlay")
    p.add_argument("--predict", dest="predict", action="store_true", default=None,
                   help="predict the run's trajectory from its W0, Phi0 and recipe (linear only; default: on for linear)")
    p.add_argument("--no-predict", dest="predict", action="store_false", help="skip the trajectory prediction")
    p.add_argument("--spread-model", choices=("linear", "langevin", "none"), default="linear",
                   help="spread model of the predicted top eigenvalues (dynamics.spread_prediction; default linear)")
    p.add_argument("--predict-level", choices=("eigen", "matrix", "lift"), default="eigen",
                   help="mean-field map on aligned modes (fast, default) or on the full W, Phi")
    p.add_argument("--no-figures", action="store_true", help="skip the validation_*.png/pdf figures")
    p.add_argument("--out", required=True, help="output directory")


def config_from_args(args):
    from sims.train import TrainConfig

    epochs = args.epochs if args.epochs is not None else (60 if args.mode == "linear" else 100)
    return TrainConfig(mode=args.mode, loss=args.loss, rho=args.rho, sigma2=args.sigma2, epochs=epochs,
                       steps_per_epoch=args.steps_per_epoch, batch=args.batch, lr=args.lr,
                       momentum=args.momentum, d=args.d, h=args.h, device=args.device,
                       data_dir=args.data_dir, seed=args.seed, checkpoint_every=args.checkpoint_every,
                       resume=args.resume, stop_after=args.stop_after, early_every=args.early_every,
                       eval_size=args.eval_size, overlay=not args.no_overlay,
                       compile=args.compile)


#: caps of the size flags (far above any run here; they keep int64 and memory estimates sane)
CAPS = {"epochs": 10**6, "steps_per_epoch": 10**9, "batch": 1 << 20, "d": 1 << 16, "h": 1 << 16,
        "eval_size": 1 << 20, "checkpoint_every": 10**6, "early_every": 10**9, "stop_after": 10**6}


def check_args(args, cfg) -> None:
    """Input checks beyond sims.train.check_config: caps, magnitudes, seed and memory."""
    from symbolic.errors import check_int, check_range

    from ._params import check_magnitude
    from ._paths import check_memory

    for field, cap in CAPS.items():
        v = getattr(cfg, field)
        if v is not None:
            check_int(field.replace("_", "-"), v, lo=0, hi=cap)
    check_int("seed", cfg.seed, lo=0, hi=2**63 - 1)
    check_magnitude("rho", check_range("rho", cfg.rho, 0.0, 1e30, hi_open=False))
    check_magnitude("sigma2", check_range("sigma2", cfg.sigma2, 0.0, 1e30, hi_open=False))
    if cfg.lr is not None:
        check_magnitude("lr", check_range("lr", cfg.lr, 0.0, 1e30, lo_open=True, hi_open=False))
    check_range("momentum", cfg.momentum, 0.0, 1.0, hi_open=True)
    if cfg.mode == "linear":   # parameters, gradients, momentum, activations of a batch and the eval set
        nbytes = 4.0 * (4 * cfg.h * (cfg.d + cfg.h) + 8 * cfg.batch * (cfg.d + cfg.h) + 4 * cfg.eval_size * (cfg.d + cfg.h))
    else:                      # ResNet-18: about 2 MiB of activations per image, plus the eval set
        nbytes = 2.0 * 2**20 * (cfg.batch + cfg.eval_size) + 4 * 11.2e6 * 4
    check_memory(f"validate {cfg.mode} with batch {cfg.batch}, d {cfg.d}, h {cfg.h}, eval-size {cfg.eval_size}", nbytes)


def _check_checkpoint_fits(ck, state, cfg) -> None:
    """The checkpoint's model tensors have the names and shapes of the model ``cfg`` builds, its
    optimiser state is a state dict, its generator state a byte tensor and its epoch in range."""
    import torch

    from sims.train import build_model
    from symbolic.errors import ParameterError

    def bad(what):
        return ParameterError(f"--resume: {str(ck)!r} does not fit this run ({what})")

    if cfg.mode != state["config"].get("mode"):
        return                                  # load_checkpoint names the differing mode
    if not 0 <= state["epoch"] <= cfg.epochs:
        raise bad(f"epoch {state['epoch']} outside [0, {cfg.epochs}]")
    gen = torch.Generator()
    gen.manual_seed(0)
    want = {k: tuple(v.shape) for k, v in build_model(cfg, gen, "cpu").state_dict().items()}
    got = state["model"]
    if not isinstance(got, dict) or not all(torch.is_tensor(v) for v in got.values()):
        raise bad("its model state is not a dict of tensors")
    have = {k: tuple(v.shape) for k, v in got.items()}
    if have != want:
        diff = sorted(set(want) ^ set(have)) or sorted(k for k in want if want[k] != have[k])
        raise bad(f"model tensors differ: {', '.join(diff[:5])}")
    opt = state["opt"]
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict) and isinstance(opt.get("param_groups"), list)
            and len(opt["param_groups"]) == 1):
        raise bad("its optimiser state is not one SGD parameter group")
    if not (torch.is_tensor(state["gen"]) and state["gen"].dtype == torch.uint8):
        raise bad("its generator state is not a byte tensor")


def check_resume_files(out, cfg=None) -> None:
    """Refuse, in one line, a checkpoint or metrics file in ``out`` that cannot be resumed from:
    unreadable, truncated, not a checkpoint (or one holding code, not just tensors and numbers),
    missing fields, or metrics lines that are not JSON records with an epoch."""
    import json
    import pickle
    import zipfile

    import torch

    from sims.train import CHECKPOINT_KEYS
    from symbolic.errors import ParameterError

    from ._paths import check_input_file

    ck = out / "checkpoint.pt"
    if not ck.exists():
        raise ParameterError(f"resume needs a checkpoint in --out; none at {str(ck)!r}")
    check_input_file("--resume checkpoint", str(ck))
    try:
        state = torch.load(ck, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, EOFError, UnicodeDecodeError, KeyError, IndexError,
            AttributeError, TypeError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        raise ParameterError(f"--resume: {str(ck)!r} is not a readable checkpoint "
                             f"({type(e).__name__}: {' '.join(str(e).split())[:160]})") from None
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing or not isinstance(state["config"], dict) or not isinstance(state["epoch"], int):
        raise ParameterError(f"--resume: {str(ck)!r} is not a checkpoint of ssldyn validate "
                             f"(missing or malformed: {', '.join(missing) or 'config, epoch'})")
    if cfg is not None:
        _check_checkpoint_fits(ck, state, cfg)
    metrics = out / "metrics.jsonl"
    if not metrics.exists():
        return
    check_input_file("--resume metrics", str(metrics))
    try:
        lines = metrics.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ParameterError(f"--resume: {str(metrics)!r} is not UTF-8 text (byte {e.start})") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise ParameterError(f"--resume: {str(metrics)!r} line {i} is not JSON ({e.msg}); "
                                 "delete the damaged lines or the file to resume") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("epoch"), int):
            raise ParameterError(f"--resume: {str(metrics)!r} line {i} is not a record with an integer epoch")


def run(args) -> int:
    import json
    import os
    import sys
    from pathlib import Path

    from symbolic.errors import ParameterError

    try:
        import torch  # noqa: F401
    except ImportError:
        raise ParameterError("validate needs torch (pip install 'ssldyn[torch]'); got no torch") from None
    from sims.io import write_json
    from sims.train import check_config, main_command, summarize, train_distributed

    cfg = config_from_args(args)
    check_args(args, cfg)
    check_config(cfg, int(os.environ.get("WORLD_SIZE", "1")))
    if args.predict and cfg.mode != "linear":
        raise ParameterError("predict applies to mode linear only (the theory is for Gaussian data and a "
                             f"linear model); got mode {cfg.mode!r}")
    predict = cfg.mode == "linear" if args.predict is None else args.predict
    out = Path(args.out)
    if cfg.resume:
        check_resume_files(out, cfg)
    result = train_distributed(cfg, out, log=lambda m: print(m, file=sys.stderr))
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    summary = summarize(cfg, result, main_command())
    if predict:
        from sims.io import atomic_write_bytes, plain
        from sims.trajectory import annotate_records

        summary["trajectory"] = annotate_records(cfg, result["records"], cfg.steps_per_epoch or 100,
                                                 level=args.predict_level, spread_model=args.spread_model,
                                                 log=lambda m: print(m, file=sys.stderr))
        atomic_write_bytes(out / "metrics.jsonl",
                           "".join(json.dumps(plain(r), allow_nan=False) + "\n" for r in result["records"]).encode())
    if cfg.mode == "linear":                      # the recipe's predicted outcome beside the measured one
        from dynamics.recipe_outcome import LinearRecipe, predict_outcome
        from sims.trajectory import initial_weights

        recipe = LinearRecipe(loss=cfg.loss, d=cfg.d, h=cfg.h, sigma2=cfg.sigma2, rho=cfg.rho, lr=cfg.base_lr,
                              momentum=cfg.momentum, batch=cfg.batch, epochs=cfg.epochs,
                              steps_per_epoch=cfg.steps_per_epoch or 100, seed=cfg.seed)
        pred = predict_outcome(recipe, *initial_weights(cfg), init="the run's own initial weights")
        summary["predicted_outcome"] = pred.to_json()
    write_json(out / "summary.json", summary)
    if not args.no_figures:
        from figures.validation import validation_figures

        validation_figures(result["records"], summary, out)
    line = {k: summary[k] for k in ("mode", "loss", "epochs", "initial_regime", "final_regime",
                                    "basin_fraction_top8", "median_rel_dist_p4", "images_per_s",
                                    "measured_outcome", "surviving_modes")}
    if "predicted_outcome" in summary:
        line["predicted_outcome"] = summary["predicted_outcome"]["outcome"]
    if predict:
        line["trajectory_median_rel_err_top8"] = summary["trajectory"].get("median_rel_err_top8")
    print(json.dumps(line))
    return 0
