"""What PSNR partial solutions of the synthetic benchmark get (docs/investigation.md).

    python scripts/psnr_bounds.py [--clips 200] [--shape 8 32 32]

Renders random scenes with the dataset's own code, builds "translations" that
are right in some ways and wrong in others, and scores them against the
paired ground truth with the evaluation's `metrics.psnr` (mean over frames,
capped at 100 dB). Translations, each compared with circles over the
blue-then-red schedule:
- rectangles, right background: the objects keep their shape from X;
- no objects, right background: only the schedule is learned;
- objects recoloured: each palette colour replaced by another one (a colour
  permutation, which the cycle losses cannot tell from the identity);
- dark reds: frames t >= T/2 on (130, 30, 35) instead of (255, 0, 0);
- switch one frame late: frame T/2 still blue;
- black background: the X frames' background kept.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import metrics  # noqa: E402
from rl_v2v_gan.data import synthetic  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clips", type=int, default=200)
    p.add_argument("--shape", type=int, nargs=3, default=[8, 32, 32], metavar=("T", "H", "W"))
    p.add_argument("--seed", type=int, default=0)
    opts = p.parse_args()
    T, H, W = opts.shape
    rng = np.random.RandomState(opts.seed)
    schedule = synthetic.target_backgrounds(T)
    permutation = {c: synthetic.PALETTE[(i + 1) % len(synthetic.PALETTE)]
                   for i, c in enumerate(synthetic.PALETTE)}
    cases = {
        "rectangles, right background": lambda s: synthetic.render(s, "rectangle", schedule, H, W),
        "no objects, right background": lambda s: synthetic.render([], "circle", schedule, H, W),
        "objects recoloured (palette permuted)": lambda s: synthetic.render(
            [o._replace(colour=permutation[o.colour]) for o in s], "circle", schedule, H, W),
        "dark reds (130, 30, 35)": lambda s: synthetic.render(
            s, "circle", [b if b == synthetic.BLUE else (130, 30, 35) for b in schedule], H, W),
        "switch one frame late": lambda s: synthetic.render(
            s, "circle", synthetic.target_backgrounds(T)[:T // 2] + [synthetic.BLUE] +
            schedule[T // 2 + 1:], H, W),
        "black background (X's)": lambda s: synthetic.render(s, "circle", [synthetic.BLACK] * T,
                                                             H, W),
    }
    scenes = [synthetic.random_scene(rng, T, H, W) for _ in range(opts.clips)]
    truth = np.stack([synthetic.render(s, "circle", schedule, H, W) for s in scenes])
    print("| translation | PSNR dB (mean over frames, cap 100) | mean over wrong frames |")
    print("|---|---|---|")
    for name, make in cases.items():
        made = np.stack([make(s) for s in scenes])
        per_frame = metrics.psnr(made, truth, cap_db=None).per_frame
        wrong = per_frame[np.isfinite(per_frame)]
        print("| %s | %.1f | %.1f |" % (name, metrics.psnr(made, truth).mean,
                                        wrong.mean() if len(wrong) else float("nan")))
    print("\n`python scripts/psnr_bounds.py --clips %d --shape %d %d %d`"
          % (opts.clips, T, H, W))


if __name__ == "__main__":
    main()
