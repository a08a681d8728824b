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
    p.add_argument("--loss", choices=("cosine", "l2"), default="cosine")
    p.add_argument("--rho", type=float, default=0.01, help="weight decay (default 0.01)")
    p.add_argument("--sigma2", type=float, default=0.5, help="Gaussian augmentation variance (linear; default 0.5)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: linear 60, resnet18 100)")
    p.add_argument("--steps-per-epoch", type=int, default=None,
                   help="steps per epoch (linear: default 100; resnet18: default one pass over the data, else a cap)")
    p.add_argument("--batch", type=int, default=512, help="global batch (default 512)")
    p.add_argument("--lr", type=float, default=None, help="base learning rate (default 0.05 x batch/256)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--d", "--input-dim", dest="d", type=int, default=512,
                   help="input dimension (linear; default 512); --input-dim under torchrun, whose own "
                   "parser takes --d as an abbreviation")
    p.add_argument("--h", "--rep-dim", dest="h", type=int, default=512,
                   help="representation dimension (default 512); --rep-dim under torchrun")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 root (resnet18); default: scikit-learn's digits, shipped with it")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=0, help="checkpoint every N epochs (0: never)")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    p.add_argument("--stop-after", type=int, default=None, help="stop (with a checkpoint) after this epoch")
    p.add_argument("--early-every", type=int, default=0, help="also measure every k steps in epoch 1")
    p.add_argument("--eval-size", type=int, default=1024, help="outputs used for collapse diagnostics")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step (CUDA)")
    p.add_argument("--no-overlay", action="store_true", help="skip the theory overlay")
    p.add_argument("--predict", dest="predict", action="store_true", default=None,
                   help="predict the run's trajectory from its W0, Phi0 and recipe (default for linear)")
    p.add_argument("--no-predict", dest="predict", action="store_false", help="skip the trajectory prediction")
    p.add_argument("--predict-level", choices=("eigen", "matrix"), default="eigen",
                   help="mean-field map on aligned modes (fast, default) or on the full W, Phi")
    p.add_argument("--no-figures", action="store_true")
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
    check_config(cfg, int(os.environ.get("WORLD_SIZE", "1")))
    if args.predict and cfg.mode != "linear":
        raise ParameterError("predict applies to mode linear only (the theory is for Gaussian data and a "
                             f"linear model); got mode {cfg.mode!r}")
    predict = cfg.mode == "linear" if args.predict is None else args.predict
    out = Path(args.out)
    result = train_distributed(cfg, out, log=lambda m: print(m, file=sys.stderr))
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    summary = summarize(cfg, result, main_command())
    if predict:
        from sims.io import atomic_write_bytes, plain
        from sims.trajectory import annotate_records

        summary["trajectory"] = annotate_records(cfg, result["records"], cfg.steps_per_epoch or 100,
                                                 level=args.predict_level, log=lambda m: print(m, file=sys.stderr))
        atomic_write_bytes(out / "metrics.jsonl",
                           "".join(json.dumps(plain(r), allow_nan=False) + "\n" for r in result["records"]).encode())
    write_json(out / "summary.json", summary)
    if not args.no_figures:
        from figures.validation import validation_figures

        validation_figures(result["records"], summary, out)
    line = {k: summary[k] for k in ("mode", "loss", "epochs", "initial_regime", "final_regime",
                                    "basin_fraction_top8", "median_rel_dist_p4", "images_per_s")}
    if predict:
        line["trajectory_median_rel_err_top8"] = summary["trajectory"].get("median_rel_err_top8")
    print(json.dumps(line))
    return 0
