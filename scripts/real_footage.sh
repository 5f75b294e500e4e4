#!/usr/bin/env bash
# Real footage (docs/real_footage.md): the four clips in samples/ as two
# one-clip-per-domain custom datasets, trained with the default recipe at the
# CPU preset's schedule and T, 64x64 frames, then translated and measured.
#
#   scripts/real_footage.sh            # flower (red -> yellow), then city (day -> night)
#   scripts/real_footage.sh city       # only one
#
# Each dataset is X = the source clip, Y = Z = the target clip, Z_images =
# the target clip's frames. With one 11-frame clip per domain there is one
# training clip of T = 8 frames and no held-out clip: the measured translation
# is of the training clip's video (all 11 frames), a demonstration that the
# recipe moves real frames toward the target domain, not a test result.
# Re-running resumes an unfinished training run from its checkpoints.
#
# Environment (defaults in brackets):
#   RUNS     where the datasets, runs and outputs go   [runs/real]
#   PYTHON   the interpreter                           [.venv/bin/python]
#   COPY=1   copy each run's numbers, config.json and strip to docs/runs/real_<name>/
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/real}
PYTHON=${PYTHON:-.venv/bin/python}
SHAPE="8 64 64 3"

declare -A SOURCE=([flower]=flower_red [city]=city_day)
declare -A TARGET=([flower]=flower_yellow [city]=city_night)
NAMES=("$@")
[[ ${#NAMES[@]} -gt 0 ]] || NAMES=(flower city)

for name in "${NAMES[@]}"; do
  if [[ -z ${SOURCE[$name]+x} ]]; then
    echo "error: $name: not a real-footage dataset (flower or city)" >&2
    exit 2
  fi
  src="samples/${SOURCE[$name]}_1_sel12.mp4"
  tgt="samples/${TARGET[$name]}_1_sel12.mp4"
  raw="$RUNS/raw_$name"
  run="$RUNS/$name"
  mkdir -p "$raw/X" "$raw/Y" "$raw/Z" "$raw/Z_images"
  cp "$src" "$raw/X/"
  cp "$tgt" "$raw/Y/"
  cp "$tgt" "$raw/Z/"
  "$PYTHON" - "$tgt" "$raw/Z_images" <<'EOF'
import os, sys
sys.path.insert(0, ".")
from rl_v2v_gan import video_io
frames, _ = video_io.read_video(sys.argv[1])
for i, frame in enumerate(frames):
    video_io.write_image(os.path.join(sys.argv[2], "frame_%02d.png" % i), frame)
EOF
  echo "== $name: ${SOURCE[$name]} -> ${TARGET[$name]}"
  [[ -f $RUNS/data_$name/custom/meta.json ]] || \
    "$PYTHON" main.py --mode prepare_data --dataset custom --raw_dir "$raw" \
      --data_dir "$RUNS/data_$name" --input_shape $SHAPE
  # shellcheck disable=SC2086
  "$PYTHON" main.py --mode train --dataset custom --preset cpu --input_shape $SHAPE \
    --data_dir "$RUNS/data_$name" --checkpoint_dir "$run" 2>&1 | tee -a "$RUNS/$name.log"
  "$PYTHON" main.py --mode translate --checkpoint_dir "$run" --input "$src" \
    --output "$RUNS/${name}_translated.mp4"
  "$PYTHON" scripts/real_footage.py "$name" --source "$src" --target "$tgt" \
    --translated "$RUNS/${name}_translated.mp4" --strip "$RUNS/${name}_strip.png" \
    --json "$RUNS/${name}_numbers.json"
  if [[ ${COPY:-0} == 1 ]]; then
    out="docs/runs/real_$name"
    mkdir -p "$out"
    cp "$RUNS/${name}_numbers.json" "$out/numbers.json"
    cp "$run/config.json" "$out/"
    cp "$RUNS/${name}_strip.png" "docs/figures/real_$name.png"
    git rev-parse HEAD > "$out/commit.txt"
  fi
done
