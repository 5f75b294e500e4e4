"""Which colour a synthetic-data model paints each object colour (docs/investigation.md).

    python scripts/object_colours.py --checkpoint_dir RUN [--data_dir DATA] [--clips 40]
        [--json PATH]

Translates the first `--clips` held-out clips of X with G_Y, like
`--mode eval`, and reads, for each palette colour of the source objects, the
output's mean colour where source and ground truth both have that colour
(inside the rectangle and its circle), separately on the blue and on the red
frames; the RMS distance to the right colour; and the RMS error of the
object and background pixels overall, which is what PSNR averages over.
Recoloured objects, not the backgrounds, are what keeps PSNR near 15 dB.
`--json PATH` also writes these numbers there (scripts/few_shot.sh).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import config, data, evaluation  # noqa: E402
from rl_v2v_gan.data import synthetic  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402
from rl_v2v_gan.files import check_destination, write_json  # noqa: E402

PALETTE = np.array(synthetic.PALETTE)


def rms(a, b):
    return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2))) if a.size else float("nan")


def rgb(colour):
    return " ".join(map(str, colour))


def colour_table(source, translated, truth):
    """Rows `(half, colour, mean output colour, nearest palette colour, RMS, pixels)`."""
    T = source.shape[1]
    rows = []
    for half, frames in (("blue", slice(0, T // 2)), ("red", slice(T // 2, T))):
        s, o, g = source[:, frames], translated[:, frames], truth[:, frames]
        for colour in PALETTE:
            inside = np.all(s == colour, -1) & np.all(g == colour, -1)
            if not inside.any():
                continue
            mean = o[inside].mean(0)
            nearest = PALETTE[np.argmin(((PALETTE - mean) ** 2).sum(1))]
            rows.append((half, tuple(colour.tolist()), tuple(np.round(mean).astype(int).tolist()),
                         tuple(nearest.tolist()), rms(o[inside], colour), int(inside.sum())))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint_dir", help="a training run's folder (its latest checkpoint)")
    p.add_argument("--checkpoint", help="or an explicit checkpoint prefix")
    p.add_argument("--data_dir", default="data", help="where the synthetic dataset is prepared")
    p.add_argument("--clips", type=int, default=40, help="held-out clips of X to translate")
    p.add_argument("--json", metavar="PATH", help="also write the table and the RMS errors "
                   "as JSON to PATH")
    opts = p.parse_args()
    if opts.clips < 1:
        p.error("--clips must be >= 1, got %d" % opts.clips)
    argv = ["--mode", "eval", "--dataset", "synthetic", "--data_dir", opts.data_dir,
            "--batch_size", "4", "--eval_batches", str(-(-opts.clips // 4))]
    argv += ["--checkpoint", opts.checkpoint] if opts.checkpoint else \
        ["--checkpoint_dir", opts.checkpoint_dir or "checkpoints"]
    try:
        if opts.json:
            check_destination(opts.json, "--json")
        args = config.parse_args(argv)
        generators = evaluation.load_generators(args)
        with generators:
            args = config.with_architecture(args, generators.spec)
            source, truth, _, split = data.eval_clips(data.ensure_dataset(args), opts.clips)
            translated = data.to_uint8(generators(data.to_float(source)))
    except UserError as e:
        sys.exit("error: %s" % e)
    if truth is None:
        sys.exit("error: %s has no paired ground truth (synthetic data only)" % args.data_dir)

    rows = colour_table(source, translated, truth)
    print("| frames | object colour | output colour (mean) | nearest palette colour | RMS | pixels |")
    print("|---|---|---|---|---|---|")
    for half, colour, mean, nearest, error, n in rows:
        print("| %s | %s | %s | %s%s | %.0f | %d |" % (half, rgb(colour), rgb(mean), rgb(nearest),
                                                     "" if nearest == colour else " (wrong)",
                                                     error, n))
    print("\nnearest palette colour wrong for %d of %d (frames, colour) pairs"
          % (sum(r[1] != r[3] for r in rows), len(rows)))
    background = np.all(truth == truth[:, :, :1, :1], -1)   # the corner pixel's colour
    errors = {"objects_rms": rms(translated[~background], truth[~background]),
              "background_rms": rms(translated[background], truth[background]),
              "objects_fraction": float((~background).mean())}
    print("RMS error, all %d %s clips: objects %.0f (%.0f%% of the pixels), background %.0f"
          % (len(source), split, errors["objects_rms"], 100.0 * errors["objects_fraction"],
             errors["background_rms"]))
    if opts.json:
        columns = ("frames", "colour", "output", "nearest", "rms", "pixels")
        write_json(opts.json, dict(errors, checkpoint=generators.path, clips=len(source),
                                   split=split, colours=[dict(zip(columns, r)) for r in rows]))
    print("\n`python scripts/object_colours.py %s --data_dir %s --clips %d`"
          % ("--checkpoint " + opts.checkpoint if opts.checkpoint
             else "--checkpoint_dir " + (opts.checkpoint_dir or "checkpoints"),
             opts.data_dir, opts.clips))


if __name__ == "__main__":
    main()
