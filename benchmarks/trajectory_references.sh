#!/usr/bin/env bash
# Reference runs of the trajectory prediction (issue: predict whole training runs). CPU, single
# digits of minutes each. rho is 3 rho_c of the run's own initial norms (eq. 7 at init; seed 0:
# d = h = 128 -> rho_c = 0.01044, d = h = 256 -> 0.00556). The L2 lr is scaled by 64/d as in
# gpu_validation.sh (the L2 gradient grows with ||x||^2 ~ d). Results: sims/results/trajectory/NAME/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-sims/results/trajectory}
common="--epochs 30 --steps-per-epoch 100 --batch 512 --early-every 10 --momentum 0.9"
run() { name=$1; shift; echo "== $name" >&2; python -m sims.cli validate linear $common "$@" --out "$OUT/$name"; }
run cosine-h128 --d 128 --h 128 --rho 0.0313 --sigma2 0.5
run cosine-h128-lr4 --d 128 --h 128 --rho 0.0313 --sigma2 0.5 --lr 0.025
run cosine-h256 --d 256 --h 256 --rho 0.0167 --sigma2 0.5
run cosine-h256-lr4 --d 256 --h 256 --rho 0.0167 --sigma2 0.5 --lr 0.025
run l2-rho0.10 --loss l2 --d 128 --h 128 --rho 0.10 --sigma2 0.5 --lr 0.05
run l2-rho0.25 --loss l2 --d 128 --h 128 --rho 0.25 --sigma2 0.5 --lr 0.05
# a configuration no test or tuning used: other size, sigma2 and seed
run cosine-h96-s0.3-seed3 --d 96 --h 96 --rho 0.0392 --sigma2 0.3 --seed 3
