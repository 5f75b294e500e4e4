#!/usr/bin/env bash
# Reproduce the synthetic-data comparison: RL-V2V-GAN, the no-RL ablation and
# the frame-based baseline, trained the same way (`--preset cpu`: same data,
# size, steps and held-out evaluation every --eval_every steps), then
# evaluated alike; writes the Markdown report RESULTS (docs/results.md) with
# the table, the time to reach the targets, the training curves and samples.
#
#   scripts/reproduce_synthetic.sh                   # the defaults below
#   SEEDS="0 1 2" scripts/reproduce_synthetic.sh     # RL-V2V-GAN with three seeds
#   FLAGS="--input_shape 4 16 16 3 --filters 4 8 8 --epochs 2 --rl_epochs 1 \
#          --steps_per_epoch 2 --eval_every 1" scripts/reproduce_synthetic.sh
#
# Settings are environment variables [default]; relative paths are taken
# from the repository root:
#   PRESET           main.py --preset of every training run       [cpu]
#   FLAGS            more flags for every training run (override the preset) []
#   SEEDS            training seeds of RL-V2V-GAN; the ablations use the first [0]
#   EVAL_BATCHES     eval batches of --batch_size test clips      [3]
#   INCEPTION        Inception-v3 graph (.pb) for FID        [empty: eval looks in
#                    its cache and tries to download; without it FID is "—"]
#   PYTHON           interpreter      [.venv/bin/python if it exists, else python3]
#   OUT              output folder, must be absent or empty  [runs/synthetic]
#   RESULTS          the report; its figures go to RESULTS's folder/figures
#                                                            [docs/results.md]
#   RELEASE          1: also export RL-V2V-GAN's (first seed) inference bundle to
#                    EXPORT_DIR, which must be absent or empty and end up
#                    <= 10 MB                                [0]
#   EXPORT_DIR       where RELEASE=1 exports                 [checkpoints/synthetic]
#
# The no-RL ablation shares RL-V2V-GAN's pre-training: same seed (the first),
# same data, same pre-training epochs, so it starts from that model's
# checkpoint at the end of pre-training (scripts/branch_checkpoint.py) and
# trains only its last epochs, by gradient instead of Algorithm 1.
#
# OUT gets the dataset (data/, seed 0 for every run), one checkpoint folder per
# model (rl_v2v_gan_seed<S>/, no_rl/, frame/, each with config.json, eval.csv,
# eval's metrics.json and samples/), each command's output (logs/) and
# commands.tsv (step, wall seconds, command).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"   # --help, die, duration; cd ROOT

PRESET=${PRESET:-cpu}
FLAGS=${FLAGS:-}
SEEDS=${SEEDS:-0}
EVAL_BATCHES=${EVAL_BATCHES:-3}
INCEPTION=${INCEPTION:-}
OUT=${OUT:-runs/synthetic}
RESULTS=${RESULTS:-docs/results.md}
RELEASE=${RELEASE:-0}
EXPORT_DIR=${EXPORT_DIR:-checkpoints/synthetic}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
MAX_BUNDLE_BYTES=10000000   # 10 MB

# ---------------------------------------------------------------------------
# Checking the settings before anything runs.

check_integers() {  # NAME COUNT MIN [WHY]: $NAME must be COUNT integers, each >= MIN
  local -a words
  read -r -a words <<< "${!1}"
  local ok=$(( ${#words[@]} == $2 ))
  for w in "${words[@]}"; do
    [[ $w =~ ^[0-9]+$ ]] && (( 10#$w >= $3 )) || ok=0
  done
  (( ok )) || die "$1=\"${!1}\": expected $( (( $2 == 1 )) && echo "an integer" ||
                                                 echo "$2 integers") >= $3${4:+ ($4)}"
}

empty_or_absent() { [[ ! -e $1 ]] || [[ -d $1 && -z $(ls -A "$1") ]]; }

read -r -a seeds <<< "$SEEDS"
(( ${#seeds[@]} >= 1 )) || die "SEEDS is empty: give at least one seed"
for seed in "${seeds[@]}"; do
  SEED=$seed check_integers SEED 1 0 "in SEEDS=\"$SEEDS\""
done
check_integers EVAL_BATCHES 1 1
read -r -a flags <<< "$FLAGS"
MODELS=()
for seed in "${seeds[@]}"; do MODELS+=("rl_v2v_gan_seed$seed"); done
MODELS+=(no_rl frame)
[[ $RELEASE == 0 || $RELEASE == 1 ]] || die "RELEASE=$RELEASE: expected 0 or 1"
[[ -z $INCEPTION || -e $INCEPTION ]] || die "INCEPTION=$INCEPTION: no such file"
command -v "$PYTHON" > /dev/null || die "PYTHON=$PYTHON: not found (create .venv, see README)"
empty_or_absent "$OUT" || die "OUT=$OUT exists and is not empty: remove it or choose another OUT"
if (( RELEASE )); then
  empty_or_absent "$EXPORT_DIR" ||
    die "EXPORT_DIR=$EXPORT_DIR exists and is not empty: remove it or choose another EXPORT_DIR"
fi

DATA=$OUT/data
COMMANDS=$OUT/commands.tsv
# The settings as they would be given again, for the log and the report.
SETTINGS="PRESET=$PRESET${FLAGS:+ FLAGS=\"$FLAGS\"} SEEDS=\"$SEEDS\" EVAL_BATCHES=$EVAL_BATCHES"
if [[ -n $INCEPTION ]]; then SETTINGS+=" INCEPTION=$INCEPTION"; fi
if (( RELEASE )); then SETTINGS+=" RELEASE=1"; fi

train_command() {  # MODEL: sets CMD to the training command of MODEL
  CMD=("$PYTHON" main.py --mode train --dataset synthetic --preset "$PRESET" --data_dir "$DATA"
       --checkpoint_dir "$OUT/$1" "${flags[@]}")   # the model's own flags last: they win
  case $1 in
    rl_v2v_gan_seed*) CMD+=(--seed "${1#rl_v2v_gan_seed}") ;;
    no_rl) CMD+=(--seed "${seeds[0]}" --rl_epochs 0) ;;
    frame) CMD+=(--seed "${seeds[0]}" --model frame --rl_epochs 0) ;;
  esac
}

eval_command() {  # MODEL: sets CMD to the eval command of MODEL (architecture from config.json)
  CMD=("$PYTHON" main.py --mode eval --dataset synthetic --data_dir "$DATA"
       --checkpoint_dir "$OUT/$1" --eval_batches "$EVAL_BATCHES"
       --samples_dir "$OUT/$1/samples")
  if [[ -n $INCEPTION ]]; then CMD+=(--inception_path "$INCEPTION"); fi
}

check_flags() {  # main.py's own flag validation of CMD, without running it
  "$PYTHON" - "${CMD[@]:2}" <<'EOF' || exit 2
import sys
from rl_v2v_gan.config import parse_args
from rl_v2v_gan.errors import UserError
try:
    parse_args(sys.argv[1:])
except UserError as e:
    sys.exit("error: %s" % e)
EOF
}

for model in "${MODELS[@]}"; do
  train_command "$model"; check_flags
  eval_command "$model"; check_flags
done

# ---------------------------------------------------------------------------
# Running.

JOB=0
JOBS=$(( 2 * ${#MODELS[@]} + RELEASE + 2 ))
header() { JOB=$(( JOB + 1 )); printf '\n==> [%d/%d] %s\n' "$JOB" "$JOBS" "$*"; }

run() {  # NAME: run CMD, its output to the terminal and logs/NAME.log; record it in COMMANDS
  local name=$1 started=$SECONDS quoted
  quoted=$(printf '%q ' "${CMD[@]}")
  quoted=${quoted% }
  header "$name: $quoted"
  if ! "${CMD[@]}" 2>&1 | tee "$OUT/logs/$name.log"; then
    echo "error: $name failed after $(duration $(( SECONDS - started ))) (log: $OUT/logs/$name.log)" >&2
    exit 1
  fi
  local seconds=$(( SECONDS - started ))
  printf '%s\t%d\t%s\n' "$name" "$seconds" "$quoted" >> "$COMMANDS"
  echo "==> $name: done in $(duration "$seconds")"
}

START_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$OUT/logs"
: > "$COMMANDS"
echo "reproduce_synthetic: $SETTINGS PYTHON=$PYTHON OUT=$OUT"

# The machine's speed before and after (wall times scale with it).
"$PYTHON" bench/benchmark.py --peak_only --peak_repeats 5 > "$OUT/peak_start.json"
for model in "${MODELS[@]}"; do
  if [[ $model == no_rl ]]; then   # the first seed's pre-training, shared (not run twice)
    CMD=("$PYTHON" scripts/branch_checkpoint.py "$OUT/${MODELS[0]}" "$OUT/no_rl")
    run branch_no_rl
  fi
  train_command "$model"; run "train_$model"
done
for model in "${MODELS[@]}"; do
  eval_command "$model"; run "eval_$model"
done

if (( RELEASE )); then
  CMD=("$PYTHON" main.py --mode export --checkpoint_dir "$OUT/${MODELS[0]}"
       --export_dir "$EXPORT_DIR")
  run export
  [[ -f $EXPORT_DIR/config.json ]] || { echo "error: $EXPORT_DIR has no config.json" >&2; exit 1; }
  bytes=$(( $(cat "$EXPORT_DIR"/* | wc -c) ))
  echo "==> bundle $EXPORT_DIR: $bytes bytes ($(( bytes / 1000 )) kB), limit $MAX_BUNDLE_BYTES"
  if (( bytes > MAX_BUNDLE_BYTES )); then
    echo "error: the bundle is larger than 10 MB: use smaller --filters" >&2
    exit 1
  fi
fi

"$PYTHON" bench/benchmark.py --peak_only --peak_repeats 5 > "$OUT/peak_end.json"
header "report: $RESULTS"
"$PYTHON" scripts/results_table.py "${MODELS[@]/#/$OUT/}" --commands "$COMMANDS" \
  --peak_start "$OUT/peak_start.json" --peak_end "$OUT/peak_end.json" \
  --output "$RESULTS" --started "$START_DATE" --wall_seconds "$SECONDS" \
  --invocation "$SETTINGS scripts/reproduce_synthetic.sh"

echo
echo "==> all done in $(duration "$SECONDS"): $RESULTS, runs in $OUT"
