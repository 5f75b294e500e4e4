"""Held-out quality curves of training runs (their `eval.csv`, `--eval_every`).

    python scripts/plot_curves.py RUN_DIR... --output curves.png [--labels A B ...]

One PNG with background accuracy and PSNR against the training step and
against the wall-clock seconds since the training command started, one line
per run, and the targets (background accuracy 0.95, PSNR 15 dB) as dashed
lines. `reached` gives the first row of a run meeting both targets.
"""
import argparse
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rl_v2v_gan.files import atomic_write  # noqa: E402
from rl_v2v_gan.monitor import CSV_FILE, read_rows  # noqa: E402

TARGETS = {"background_accuracy": 0.95, "psnr": 15.0}
PANELS = (("background_accuracy", "background accuracy"), ("psnr", "PSNR (dB)"))
AXES = (("step", "training step"), ("seconds", "wall-clock seconds (graph build included)"))


def curves(directory):
    """The eval.csv rows of a run folder; a clear exit if there are none."""
    rows = read_rows(os.path.join(directory, CSV_FILE))
    if not rows:
        sys.exit("error: %s has no %s rows (train with --eval_every N)" % (directory, CSV_FILE))
    return rows


def reached(rows, targets=TARGETS):
    """The first row whose metrics all meet `targets` (None if none does)."""
    for row in rows:
        if all(row.get(k) is not None and row[k] >= v for k, v in targets.items()):
            return row
    return None


def plot(runs, path, title=None):
    """`runs`: `[(label, rows)]`; writes a 2x2 PNG to `path` (atomically)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for i, (key, label) in enumerate(PANELS):
        for j, (x_key, x_label) in enumerate(AXES):
            ax = axes[i][j]
            for name, rows in runs:
                points = [(r[x_key], r[key]) for r in rows if r.get(key) is not None]
                ax.plot(*zip(*points), marker=".", label=name)
            ax.axhline(TARGETS[key], color="grey", linestyle="--", linewidth=1)
            ax.set_xlabel(x_label)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
    axes[0][0].legend(loc="lower right", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, buffer.getvalue(), "wb")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="checkpoint folders with eval.csv")
    p.add_argument("--labels", nargs="+", help="one per run (default: the folder names)")
    p.add_argument("--output", required=True, help="the PNG to write")
    p.add_argument("--title")
    opts = p.parse_args(argv)
    labels = opts.labels or [os.path.basename(os.path.normpath(d)) for d in opts.runs]
    if len(labels) != len(opts.runs):
        sys.exit("error: --labels: %d labels for %d runs" % (len(labels), len(opts.runs)))
    runs = [(label, curves(d)) for label, d in zip(labels, opts.runs)]
    plot(runs, opts.output, opts.title)
    for label, rows in runs:
        row = reached(rows)
        print("%s: %s" % (label, "targets first met at step %d, %.0f s" % (row["step"], row["seconds"])
                          if row else "targets not met (last: step %d, background accuracy %.3f, "
                          "PSNR %.2f dB)" % (rows[-1]["step"], rows[-1]["background_accuracy"] or 0,
                                              rows[-1]["psnr"] or 0)))
    print("wrote %s" % opts.output)


if __name__ == "__main__":
    main()
