"""The README's teaser: a model translating held-out synthetic clips, as a GIF.

    python scripts/teaser.py [--checkpoint_dir checkpoints/synthetic] [--output samples/teaser.gif]

Translates the first `--clips` test clips of X of the synthetic dataset at
the model's clip size (generated into `--data_dir` when missing) with the
model's G_Y, and writes one looping GIF: a row per clip, each row
source | translation | ground truth, every pixel scaled up `--scale` times
(nearest neighbour) so that a 32x32 clip can be seen.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rl_v2v_gan import config, data, evaluation, video_io  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402


def teaser(generators, source, truth, scale):
    """uint8 `[N, T, H, W, 3]` clips => `[T, rows, columns, 3]` GIF frames."""
    translated = data.to_uint8(generators(data.to_float(source)))
    rows = [video_io.side_by_side(*clips) for clips in zip(source, translated, truth)]
    bar = np.full(rows[0].shape[:1] + (video_io.SEPARATOR,) + rows[0].shape[2:], 128, np.uint8)
    frames = np.concatenate([part for row in rows for part in (row, bar)][:-1], axis=1)
    return frames.repeat(scale, axis=1).repeat(scale, axis=2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint_dir", default=os.path.join(ROOT, "checkpoints", "synthetic"))
    p.add_argument("--data_dir", default=os.path.join(ROOT, "data"))
    p.add_argument("--output", default=os.path.join(ROOT, "samples", "teaser.gif"))
    p.add_argument("--clips", type=int, default=3)
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--fps", type=float, default=4.0)
    opts = p.parse_args(argv)
    args = config.parse_args(["--mode", "eval", "--dataset", "synthetic", "--checkpoint_dir",
                              opts.checkpoint_dir, "--data_dir", opts.data_dir])
    try:
        with evaluation.load_generators(args) as generators:
            args = config.with_architecture(args, generators.spec)
            source, truth, _, _ = data.eval_clips(data.ensure_dataset(args), opts.clips)
            frames = teaser(generators, source, truth, opts.scale)
        video_io.write_gif(opts.output, frames, opts.fps)
    except UserError as e:
        sys.exit("error: %s" % e)
    print("wrote %s: %d clips x %d frames, %dx%d pixels" % (
        opts.output, len(source), frames.shape[0], frames.shape[2], frames.shape[1]))


if __name__ == "__main__":
    main()
