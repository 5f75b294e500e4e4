"""Temporal consistency at translate's window boundaries: carried ConvLSTM
state versus a reset every T frames.

    python bench/window_boundaries.py --input CLIP.mp4 [--frames 64]
                                      [--checkpoint_dir checkpoints/synthetic]

The clip is played forwards and backwards until it has `--frames` frames
(continuous motion, no cuts), translated x2y with `--state carry` and
`--state reset`, and the flow warping error (metrics.warping_error, the
source's flow) is averaged separately over the transitions that cross a
window boundary (frame kT-1 -> kT) and those inside windows. Prints a
Markdown table.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rl_v2v_gan import config, evaluation, metrics, video_io  # noqa: E402


def ping_pong(frames, n):
    """Frames 0..N-1, N-2..1, 0.. repeated until there are n."""
    order = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
    return frames[[order[k % len(order)] for k in range(n)]]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True, help="a video file or frame folder")
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--checkpoint_dir", default=os.path.join(ROOT, "checkpoints", "synthetic"))
    args = p.parse_args()
    frames = ping_pong(video_io.read_video(args.input)[0], args.frames)
    flags = config.parse_args(["--mode", "translate", "--checkpoint_dir", args.checkpoint_dir])
    with evaluation.load_generators(flags) as generators:
        T = generators.shape[0]
        outputs = {state: evaluation.translate_frames(generators, frames, "x2y", state)
                   for state in ("carry", "reset")}
    boundary = np.arange(len(frames) - 1) % T == T - 1        # transition t -> t+1 crosses
    print("%s, %d frames (%dx%d), windows of T=%d: %d boundary transitions, %d inside\n"
          % (os.path.basename(args.input), len(frames), frames.shape[2], frames.shape[1], T,
             boundary.sum(), (~boundary).sum()))
    print("| --state | warping error at boundaries | inside windows | ratio |\n|---|---|---|---|")
    for state, out in outputs.items():
        per_transition = metrics.warping_error(frames, out).per_frame
        at, inside = per_transition[boundary].mean(), per_transition[~boundary].mean()
        print("| %s | %.5f | %.5f | %.2f |" % (state, at, inside, at / inside))


if __name__ == "__main__":
    main()
