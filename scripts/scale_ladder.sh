#!/usr/bin/env bash
# The scale ladder: the default recipe at the CPU preset's schedule, from the
# CPU preset's clip up to the paper's (docs/scaling.md). Every run is the
# defaults plus size flags and a seed, with held-out evaluation every 50
# steps; re-running the script resumes each unfinished run from its
# checkpoints (a finished run says "nothing to do").
#
#   scripts/scale_ladder.sh                 # every rung, one run after another
#   scripts/scale_ladder.sh L0_seed3 L1_seed0   # only these runs
#
# Environment (defaults in brackets):
#   RUNS      where the runs' folders go (checkpoints, logs)      [runs/ladder]
#   DATA      --data_dir root; each clip size gets its own folder  [$RUNS/data]
#   PYTHON    the interpreter                                     [.venv/bin/python]
#   COPY=1    copy each finished run's eval.csv and config.json to docs/runs/<run>/
#             with the commit it was trained at (commit.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/ladder}
DATA=${DATA:-$RUNS/data}
PYTHON=${PYTHON:-.venv/bin/python}

# rung => size flags (on top of --preset cpu: T=8, 32x32, filters 8/16/32).
declare -A SIZE=(
  [L0]=""
  [L1]="--input_shape 16 32 32 3"
  [L2]="--input_shape 8 64 64 3"
  [L3]="--filters 16 32 64"
  [L4]="--input_shape 16 64 64 3"
)
ALL=(L0_seed0 L0_seed1 L0_seed2 L0_seed3 L0_seed4 L1_seed0 L1_seed1 L2_seed0 L3_seed0 L4_seed0)
RUNS_TO_DO=("$@")
[[ ${#RUNS_TO_DO[@]} -gt 0 ]] || RUNS_TO_DO=("${ALL[@]}")

for run in "${RUNS_TO_DO[@]}"; do
  rung=${run%%_seed*}
  seed=${run##*_seed}
  if [[ -z ${SIZE[$rung]+x} || ! $seed =~ ^[0-9]+$ ]]; then
    echo "error: $run: not a run name (rung L0-L4, then _seed<k>, e.g. L1_seed0)" >&2
    exit 2
  fi
  size=${SIZE[$rung]}
  data="$DATA/$(echo "${size:-cpu}" | tr -cs '0-9a-z' '_')"
  mkdir -p "$RUNS"
  echo "== $run: --preset cpu $size --seed $seed"
  # The machine's fp32 peak (GFLOP/s) before each (re)start and after the run:
  # wall-clock seconds are comparable across runs only through it.
  "$PYTHON" bench/benchmark.py --peak_only >> "$RUNS/$run.peak" 2>/dev/null || true
  # shellcheck disable=SC2086
  "$PYTHON" main.py --mode train --dataset synthetic --preset cpu $size --seed "$seed" \
    --data_dir "$data" --checkpoint_dir "$RUNS/$run" 2>&1 | tee -a "$RUNS/$run.log"
  "$PYTHON" bench/benchmark.py --peak_only >> "$RUNS/$run.peak" 2>/dev/null || true
  if [[ ${COPY:-0} == 1 ]]; then
    mkdir -p "docs/runs/$run"
    cp "$RUNS/$run/eval.csv" "$RUNS/$run/config.json" "docs/runs/$run/"
    [[ -f $RUNS/$run.peak ]] && cp "$RUNS/$run.peak" "docs/runs/$run/peak.jsonl"
    git rev-parse HEAD > "docs/runs/$run/commit.txt"
  fi
done
