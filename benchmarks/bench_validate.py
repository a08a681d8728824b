"""ResNet-18 SimSiam training throughput: full step (on-device augmentations) vs a bare step.

Baseline: the bare bf16 channels_last SimSiam ResNet-18 step on pre-made random input (what the
issue quotes as 23,200 images/s on the H100). Candidate: ``sims.train``'s step, which indexes the
images, draws the augmentation numbers and augments both views on the device. Same model, batch
and process; images/s counts each image once (two views each). Needs CUDA for meaningful numbers;
``--device cpu --steps 2`` is a smoke run only.

    python benchmarks/bench_validate.py [--device cuda] [--steps 50] [--compile]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    import torch

    from _common import write
    from sims.train import TrainConfig, Trainer

    cfg = TrainConfig(mode="resnet18", device=a.device, batch=a.batch, epochs=1, h=512, compile=a.compile)
    tr = Trainer(cfg, "/tmp/bench_validate")
    dev = tr.device
    amp = dev.type == "cuda"
    cl = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
    x1 = torch.randn(a.batch, 3, 32, 32, device=dev).contiguous(memory_format=cl)
    x2 = torch.randn(a.batch, 3, 32, 32, device=dev).contiguous(memory_format=cl)
    perm = torch.randperm(tr.images.shape[0], device=dev)
    nper = max(1, tr.images.shape[0] // a.batch)

    def step(inputs):
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = tr.ddp(*inputs)
        tr.opt.zero_grad(set_to_none=True)
        loss.backward()
        tr.opt.step()

    def rate(make, n):
        for i in range(3):                     # warm-up: cudnn autotuning, compile
            step(make(i))
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(n):
            step(make(i))
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return n * a.batch / (time.perf_counter() - t0)

    base = rate(lambda i: (x1, x2), a.steps)
    cand = rate(lambda i: tr._step_inputs(i % nper, perm), a.steps)
    res = {"device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__,
           "batch": a.batch, "steps": a.steps, "compile": a.compile,
           "bare_step_images_per_s": base, "full_step_images_per_s": cand, "full_over_bare": cand / base}
    if dev.type == "cuda":
        write("validate_throughput", res)
    else:
        print(res)


if __name__ == "__main__":
    main()
