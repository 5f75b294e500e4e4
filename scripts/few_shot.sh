#!/usr/bin/env bash
# The shot-count curve of the few-shot claim: RL-V2V-GAN and the no-RL
# ablation trained on only the first N clips of Y and of Z
# (`--max_target_clips N`) for each N in SHOTS and each seed in SEEDS, at
# `--preset cpu` (held-out eval every 50 steps); then each run's object
# colours (scripts/object_colours.py) and the Markdown report REPORT
# (docs/few_shot.md: scripts/few_shot_report.py) of the end of training.
#
#   scripts/few_shot.sh                     # the defaults below: 16 runs, ~25 min each
#   JOBS=2 scripts/few_shot.sh              # two runs at a time (one core each)
#   SHOTS="1 12" SEEDS=0 FLAGS="--input_shape 4 16 16 3 --filters 4 8 8 --epochs 2 \
#     --rl_epochs 1 --steps_per_epoch 2 --eval_every 1" OUT=/tmp/few scripts/few_shot.sh
#
# Settings are environment variables [default]; relative paths are taken
# from the repository root:
#   SHOTS    --max_target_clips values, integers >= 1 (12 = all at the cpu preset) [1 2 4 12]
#   SEEDS    training seeds, integers >= 0                            [0 1]
#   PRESET   main.py --preset of every training run                   [cpu]
#   FLAGS    more flags for every training run (override the preset)  []
#   JOBS     training runs at a time (2 on a 2-core machine); with more
#            than 1 their output goes to OUT/logs/ only                [1]
#   PYTHON   interpreter      [.venv/bin/python if it exists, else python3]
#   OUT      output folder: absent, empty, or made by this script with the
#            same SHOTS, SEEDS, PRESET and FLAGS (then it resumes)    [runs/few_shot]
#   REPORT   the report; its figures go to REPORT's folder/figures    [docs/few_shot.md]
#
# Re-running the script resumes: each run folder continues from its last
# checkpoint (a finished run says "nothing to do"), the object colours of a
# run are measured again only when its checkpoint is newer. The no-RL
# ablation of (N, seed) shares the pre-training of RL-V2V-GAN's run of
# (N, seed): it starts from that model's checkpoint at the end of
# pre-training (scripts/branch_checkpoint.py) and trains only its last
# epochs, by gradient instead of Algorithm 1 (`--rl_epochs 0`).
#
# OUT gets the dataset (data/, seed 0), one checkpoint folder per run
# (rl_v2v_gan_shots<N>_seed<S>/ and no_rl_shots<N>_seed<S>/, each with
# config.json, eval.csv, eval/step_*.png and object_colours.json), each
# command's output (logs/, appended on resume), commands.tsv (step, wall
# seconds, command), the settings (settings.txt), the commits trained at
# (commits.txt) and the fp32 peak before and after the runs (peak.jsonl).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"   # --help, die, duration; cd ROOT

SHOTS=${SHOTS-1 2 4 12}
SEEDS=${SEEDS-0 1}
PRESET=${PRESET:-cpu}
FLAGS=${FLAGS:-}
JOBS=${JOBS:-1}
OUT=${OUT:-runs/few_shot}
REPORT=${REPORT:-docs/few_shot.md}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

# ---------------------------------------------------------------------------
# Checking the settings before anything runs.

words() {  # NAME MIN: $NAME as distinct integers >= MIN into the array `values`
  read -r -a values <<< "${!1}"
  (( ${#values[@]} )) || die "$1 is empty: give at least one integer >= $2"
  local w seen=" "
  for w in "${values[@]}"; do
    [[ $w =~ ^[0-9]+$ ]] && (( 10#$w >= $2 )) ||
      die "$1=\"${!1}\": \"$w\" is not an integer >= $2"
    [[ $seen != *" $((10#$w)) "* ]] || die "$1=\"${!1}\": $w is given twice"
    seen+="$((10#$w)) "
  done
  read -r -a values <<< "$seen"
}

words SHOTS 1; shots=("${values[@]}")
words SEEDS 0; seeds=("${values[@]}")
[[ $JOBS =~ ^[0-9]+$ ]] && (( 10#$JOBS >= 1 )) || die "JOBS=$JOBS: expected an integer >= 1"
JOBS=$((10#$JOBS))
command -v "$PYTHON" > /dev/null || die "PYTHON=$PYTHON: not found (create .venv, see README)"
read -r -a flags <<< "$FLAGS"

# The settings as they would be given again: the report's and the resume check's.
SETTINGS="SHOTS=\"${shots[*]}\" SEEDS=\"${seeds[*]}\" PRESET=$PRESET"
if [[ -n $FLAGS ]]; then SETTINGS+=" FLAGS=\"${flags[*]}\""; fi
MARKER=$OUT/settings.txt
if [[ -e $OUT && ! -d $OUT ]]; then
  die "OUT=$OUT is a file, not a folder"
elif [[ -f $MARKER ]]; then
  [[ $(< "$MARKER") == "$SETTINGS" ]] ||
    die "OUT=$OUT holds runs of other settings ($(< "$MARKER")):" \
        "give those to resume, or choose another OUT"
elif [[ -d $OUT && -n $(ls -A "$OUT") ]]; then
  die "OUT=$OUT exists, is not empty and was not made by this script (no settings.txt):" \
      "remove it or choose another OUT"
fi

DATA=$OUT/data
run_dir() { echo "$OUT/$1_shots$2_seed$3"; }   # MODEL SHOTS SEED

train_command() {  # MODEL SHOTS SEED: sets CMD to the training command of that run
  CMD=("$PYTHON" main.py --mode train --dataset synthetic --preset "$PRESET" --data_dir "$DATA"
       --checkpoint_dir "$(run_dir "$@")" "${flags[@]}"   # the run's own flags last: they win
       --max_target_clips "$2" --seed "$3")
  if [[ $1 == no_rl ]]; then CMD+=(--rl_epochs 0); fi
}

# main.py's own validation of every training command at once, nothing run;
# and the shot counts against the synthetic dataset's clips of Y and Z at T.
commands=()
for n in "${shots[@]}"; do
  for seed in "${seeds[@]}"; do
    for model in rl_v2v_gan no_rl; do
      train_command "$model" "$n" "$seed"
      commands+=(:: "${CMD[@]:2}")
    done
  done
done
"$PYTHON" - "$SHOTS" "${commands[@]}" <<'EOF' || exit 2
import inspect
import itertools
import sys
from rl_v2v_gan.config import parse_args
from rl_v2v_gan.data import synthetic
from rl_v2v_gan.errors import UserError
frames = inspect.signature(synthetic.generate).parameters
for separator, argv in itertools.groupby(sys.argv[2:], lambda word: word == "::"):
    if separator:
        continue
    try:
        args = parse_args(list(argv))
    except UserError as e:
        sys.exit("error: %s" % e)
    T = args.input_shape[0]
    clips = min(frames["y_frames"].default, frames["z_frames"].default) // T
    if args.max_target_clips > clips:
        sys.exit('error: SHOTS="%s": %d is more than the %d clips of Y and of Z in the '
                 "synthetic dataset at T = %d" % (sys.argv[1], args.max_target_clips, clips, T))
EOF

# ---------------------------------------------------------------------------
# Running.

run() {  # NAME: run CMD, its output appended to logs/NAME.log (and shown with JOBS=1); record it
  local name=$1 started=$SECONDS quoted log=$OUT/logs/$1.log
  quoted=$(printf '%q ' "${CMD[@]}")
  quoted=${quoted% }
  printf '\n==> %s: %s\n' "$name" "$quoted"
  if (( JOBS == 1 )); then
    "${CMD[@]}" 2>&1 | tee -i -a "$log"
  else
    "${CMD[@]}" >> "$log" 2>&1
  fi || { echo "error: $name failed after $(duration $(( SECONDS - started ))) (log: $log)" >&2
          exit 1; }
  local seconds=$(( SECONDS - started ))
  printf '%s\t%d\t%s\n' "$name" "$seconds" "$quoted" >> "$OUT/commands.tsv"
  echo "==> $name: done in $(duration "$seconds")"
}

colours() {  # RUN: its object colours, unless object_colours.json is newer than its checkpoint
  local json=$1/object_colours.json
  if [[ -f $json && $json -nt $1/checkpoint ]]; then return; fi
  CMD=("$PYTHON" scripts/object_colours.py --checkpoint_dir "$1" --data_dir "$DATA" --json "$json")
  run "colours_${1##*/}"
}

pair() {  # SHOTS SEED: RL-V2V-GAN, then the no-RL ablation from its pre-training; their colours
  trap : INT   # the runs get Ctrl-C (a training saves a checkpoint first), this shell goes on
  local rl no_rl branch
  rl=$(run_dir rl_v2v_gan "$@")
  no_rl=$(run_dir no_rl "$@")
  train_command rl_v2v_gan "$@"; run "train_${rl##*/}"
  if [[ ! -e $no_rl ]]; then     # branched into a temporary folder: a copy is whole or absent
    branch=$OUT/.branch_${no_rl##*/}
    rm -rf "$branch"
    CMD=("$PYTHON" scripts/branch_checkpoint.py "$rl" "$branch"); run "branch_${no_rl##*/}"
    if [[ -e $branch ]]; then mv "$branch" "$no_rl"; fi
  fi
  train_command no_rl "$@"; run "train_${no_rl##*/}"
  colours "$rl"
  colours "$no_rl"
}

peak() {  # WHEN: the machine's fp32 peak, a line of peak.jsonl (wall times scale with it)
  "$PYTHON" bench/benchmark.py --peak_only --peak_repeats 5 >> "$OUT/peak.jsonl" ||
    echo "warning: the fp32 peak $1 training was not measured" >&2
}

mkdir -p "$OUT/logs"
exec 9>> "$OUT/.lock"   # held by the runs too, until the last of them ends
if command -v flock > /dev/null && ! flock -n 9; then
  die "OUT=$OUT is in use by another scripts/few_shot.sh or its runs"
fi
echo "$SETTINGS" > "$MARKER"
commit=$(git rev-parse HEAD 2> /dev/null || echo unknown)
grep -qx "$commit" "$OUT/commits.txt" 2> /dev/null || echo "$commit" >> "$OUT/commits.txt"
echo "few_shot: $SETTINGS JOBS=$JOBS PYTHON=$PYTHON OUT=$OUT"

if [[ ! -f $DATA/synthetic/meta.json ]]; then
  CMD=("$PYTHON" main.py --mode prepare_data --dataset synthetic --preset "$PRESET"
       --data_dir "$DATA" "${flags[@]}")
  run prepare_data
fi
peak before
# The pairs, seed by seed (a whole curve first), JOBS at a time: each in its
# own process group (set -m), which Ctrl-C or a TERM reaches as an INT.
stop() {
  trap '' INT TERM
  echo "==> stopping: each training saves a checkpoint; run the script again to resume" >&2
  local group
  for group in $(jobs -p); do kill -INT -- "-$group" 2> /dev/null || true; done
  wait || true
  exit 130
}
trap stop INT TERM
set -m
running=0 failed=0
for seed in "${seeds[@]}"; do
  for n in "${shots[@]}"; do
    if (( running == JOBS )); then wait -n || failed=1; running=$(( running - 1 )); fi
    (( failed )) && break 2
    pair "$n" "$seed" &
    running=$(( running + 1 ))
  done
done
while (( running )); do wait -n || failed=1; running=$(( running - 1 )); done
set +m
trap - INT TERM
if (( failed )); then
  echo "error: a run failed (above); run the script again to resume" >&2
  exit 1
fi
peak after

printf '\n==> report: %s\n' "$REPORT"
"$PYTHON" scripts/few_shot_report.py "$OUT" --output "$REPORT"
echo
echo "==> all done in $(duration "$SECONDS"): $REPORT, runs in $OUT"
