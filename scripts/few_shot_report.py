"""The Markdown report of `scripts/few_shot.sh` (docs/few_shot.md): the shot-count curve.

    python scripts/few_shot_report.py OUT [--output docs/few_shot.md]

OUT holds one checkpoint folder per run, each with `config.json`
(`--max_target_clips`, `--seed`, `--rl_epochs`: RL-V2V-GAN or the no-RL
ablation), `eval.csv` (the held-out curve), `eval/step_*.png` (its sample
strips) and `object_colours.json` (`scripts/object_colours.py --json`);
and the script's `settings.txt`, `commits.txt`, `commands.tsv` and
`peak.jsonl`, each optional. Every value is the model at the end of
training: the last row of `eval.csv`, never its best. The report has the
table (and the mean over seeds), the three metrics against the shot count
and one sample strip per shot count, these two in `figures/` beside it; all
written atomically.
"""
import argparse
import datetime
import io
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from ladder_report import peak  # noqa: E402
from plot_curves import TARGETS  # noqa: E402
from results_table import (MISSING, SETTINGS, duration, machine, markdown_table,  # noqa: E402
                           read_commands, read_json, setting)
from rl_v2v_gan.config import CONFIG_FILE  # noqa: E402
from rl_v2v_gan.files import atomic_write  # noqa: E402
from rl_v2v_gan.monitor import CSV_FILE, STRIPS, read_rows  # noqa: E402

COLOURS_FILE = "object_colours.json"
FIGURES, CURVES = "figures", "few_shot.png"   # the figures' folder beside the report, the curves
MODELS = ("RL-V2V-GAN", "no-RL")
# (key, column, format, better): end-of-training metrics, in table order.
METRICS = (("background_accuracy", "background accuracy", "%.3f", "↑"),
           ("psnr", "PSNR (dB)", "%.2f", "↑"),
           ("objects_rms", "object-colour RMS error", "%.1f", "↓"))


class Run(object):
    """One run folder: `config`, `shots`, `seed`, `model`, its `last` held-out
    row (None without one) and `values` at the end of training."""

    def __init__(self, directory):
        self.directory = directory
        self.name = os.path.basename(os.path.normpath(directory))
        self.config = read_json(os.path.join(directory, CONFIG_FILE))
        self.shots, self.seed = self.config["max_target_clips"], self.config["seed"]
        if self.shots < 1:
            sys.exit("error: %s: trained on all target clips (--max_target_clips 0), not a "
                     "few-shot run" % directory)
        self.model = MODELS[0] if self.config["rl_epochs"] else MODELS[1]
        rows = read_rows(os.path.join(directory, CSV_FILE))
        self.last = rows[-1] if rows else None
        colours = os.path.join(directory, COLOURS_FILE)
        self.colours = read_json(colours) if os.path.isfile(colours) else {}
        self.values = dict((self.last or {}), objects_rms=self.colours.get("objects_rms"))

    @property
    def label(self):
        return "%s, %d clip%s, seed %d" % (self.model, self.shots, "s" * (self.shots > 1),
                                           self.seed)

    def strip(self):
        """The sample strip of its last held-out evaluation (None if there is none)."""
        folder = os.path.join(self.directory, STRIPS)
        steps = [(int(m.group(1)), name) for name in os.listdir(folder)
                 for m in [re.match(r"step_(\d+)\.png$", name)] if m] \
            if os.path.isdir(folder) else []
        return os.path.join(folder, max(steps)[1]) if steps else None


def find_runs(out):
    """The run folders of OUT (those with a config.json), by shots, model, seed."""
    if not os.path.isdir(out):
        sys.exit("error: %s: no such folder" % out)
    runs = [Run(os.path.join(out, name)) for name in sorted(os.listdir(out))
            if os.path.isfile(os.path.join(out, name, CONFIG_FILE))]
    if not runs:
        sys.exit("error: %s holds no run folder (with a %s)" % (out, CONFIG_FILE))
    return sorted(runs, key=lambda r: (r.shots, MODELS.index(r.model), r.seed))


def mean(runs, key):
    """The mean of `key` over `runs`; None unless every run has it."""
    values = [r.values.get(key) for r in runs]
    return None if None in values else statistics.mean(values)


def cell(value, form):
    return MISSING if value is None else form % value


def groups(runs):
    """`[(shots, model, runs)]` in table order."""
    keys = sorted({(r.shots, MODELS.index(r.model)) for r in runs})
    return [(n, MODELS[m], [r for r in runs if (r.shots, r.model) == (n, MODELS[m])])
            for n, m in keys]


def table(runs):
    """Shots x model x seed at the end of training, and each group's mean over seeds."""
    rows = []
    for shots, model, members in groups(runs):
        for r in members:
            rows.append([shots, model, r.seed, r.last["step"] if r.last else MISSING]
                        + [cell(r.values.get(k), form) for k, _, form, _ in METRICS])
        if len(members) > 1:
            rows.append([shots, model, "**mean**", ""]
                        + ["**%s**" % cell(mean(members, k), form) for k, _, form, _ in METRICS])
    return markdown_table(["shots", "model", "seed", "step"]
                          + ["%s %s" % (column, better) for _, column, _, better in METRICS],
                          rows)


def plot_curves(runs, path):
    """The three metrics against the shot count (log x axis), each seed a dot,
    the mean over seeds a line; a PNG at `path`, written atomically."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shots = sorted({r.shots for r in runs})
    fig, axes = plt.subplots(1, len(METRICS), figsize=(13, 4))
    for ax, (key, column, _, better) in zip(axes, METRICS):
        for i, model in enumerate(MODELS):
            members = [(n, rs) for n, m, rs in groups(runs) if m == model]
            dots = [(r.shots, r.values[key]) for _, rs in members for r in rs
                    if r.values.get(key) is not None]
            means = [(n, mean(rs, key)) for n, rs in members if mean(rs, key) is not None]
            if dots:
                ax.scatter(*zip(*dots), color="C%d" % i, alpha=0.35, s=16)
            if means:
                ax.plot(*zip(*means), color="C%d" % i, marker="o", label=model)
        if key in TARGETS:
            ax.axhline(TARGETS[key], color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_xticks(shots)
        ax.set_xticklabels([str(n) for n in shots])
        ax.minorticks_off()
        ax.set_xlabel("target clips (--max_target_clips)")
        ax.set_ylabel("%s %s" % (column, better))
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize="small")
    fig.suptitle("end of training against the number of clips of Y and Z")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, buffer.getvalue(), "wb")


def copy_strips(runs, folder):
    """Copy each shot count's sample strip (RL-V2V-GAN, first seed) into
    `folder`; returns `[(run, file name)]`."""
    strips = []
    for shots in sorted({r.shots for r in runs}):
        chosen = [r for r in runs if r.shots == shots and r.strip()]
        chosen.sort(key=lambda r: (MODELS.index(r.model), r.seed))
        if chosen:
            name = "few_shot_shots%d.png" % shots
            with open(chosen[0].strip(), "rb") as f:
                atomic_write(os.path.join(folder, name), f.read(), "wb")
            strips.append((chosen[0], name))
    return strips


def read_lines(path):
    """The non-empty lines of a text file; [] if it is absent."""
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def render(runs, out, strips, written):
    """The whole document; `strips` from `copy_strips`."""
    rl = [r for r in runs if r.model == MODELS[0]] or runs
    clips = sorted({r.colours["clips"] for r in runs if "clips" in r.colours})
    shots, seeds = (sorted({getattr(r, k) for r in runs}) for k in ("shots", "seed"))
    lines = ["# Few-shot: the shot-count curve", "",
             "Written by `scripts/few_shot.sh` (`scripts/few_shot_report.py %s`) on %s. "
             "RL-V2V-GAN and the no-RL ablation trained on only the first N clips of Y and of "
             "Z (`--max_target_clips N`; X and the images Ẑ unchanged), N = %s, seed%s %s. "
             "The no-RL ablation of each (N, seed) starts from RL-V2V-GAN's checkpoint at the "
             "end of its pre-training and trains its last epochs by gradient instead of "
             "Algorithm 1." % (out, written, ", ".join(map(str, shots)), "s" * (len(seeds) > 1),
                               ", ".join(map(str, seeds))),
             "", "## End of training", "",
             "Every value is the model at the end of training, never the best along the way: "
             "the last row of its held-out curve (`eval.csv`, at the step shown: background "
             "accuracy and PSNR on the held-out clips of X) and the object colours of its "
             "last checkpoint (`scripts/object_colours.py`: the RMS error, 0-255, of the "
             "object pixels against the ground truth%s). ↑ higher is better, ↓ lower."
             % (" on the first %s test clips" % "/".join(map(str, clips)) if clips else ""), "",
             table(runs)]
    lines += ["", "Each dot a seed, each line the mean over seeds; dashed: the targets "
              "(background accuracy %.2f, PSNR %g dB)." % (TARGETS["background_accuracy"],
                                                           TARGETS["psnr"]),
              "", "![the metrics against the shot count](%s/%s)" % (FIGURES, CURVES)]
    if strips:
        lines += ["", "## Samples", "",
                  "The last held-out evaluation of each shot count's first run: for each of "
                  "the first clips, rows source (X), translation and ground truth; time from "
                  "left to right."]
        for r, name in strips:
            lines += ["", "%s (step %s):" % (r.label, r.last["step"] if r.last else MISSING),
                      "", "![%s](%s/%s)" % (r.label, FIGURES, name)]
    lines += ["", "## Settings", ""]
    invocation = read_lines(os.path.join(out, "settings.txt"))
    if invocation:
        lines += ["Reproduce (re-running resumes) with:", "", "```bash",
                  "%s scripts/few_shot.sh" % invocation[0], "```", ""]
    lines += ["RL-V2V-GAN's flags; the no-RL ablation's are the same but `--rl_epochs 0` "
              "(its pre-training runs to the end):", ""]
    lines += ["- %s: %s" % (label, setting(rl, key)) for key, label in SETTINGS if key != "seed"]
    commands = os.path.join(out, "commands.tsv")
    if os.path.isfile(commands):
        seconds = [(step, s) for step, s, _ in read_commands(commands)]
        lines += ["", "Wall time (`commands.tsv`, each command's own, summed: runs side by "
                  "side with JOBS=2 both count): training %s, all commands %s."
                  % (duration(sum(s for step, s in seconds if step.startswith("train_"))),
                     duration(sum(s for _, s in seconds)))]
    lines += ["", "## Code and machine", ""]
    commits = read_lines(os.path.join(out, "commits.txt"))
    if commits:
        lines += ["- trained at commit %s" % ", then ".join("`%s`" % c for c in commits)]
    lines += ["- %s: %s" % item for item in machine()]
    gflops = peak(out)
    if gflops:
        lines += ["- measured fp32 peak (`python bench/benchmark.py --peak_only`, median of the "
                  "measurements before and after training): %.0f GFLOP/s; wall times scale "
                  "with it" % gflops]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="scripts/few_shot.sh's OUT folder")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "few_shot.md"))
    opts = p.parse_args(argv)
    runs = find_runs(opts.out)
    folder = os.path.join(os.path.dirname(os.path.abspath(opts.output)), FIGURES)
    plot_curves(runs, os.path.join(folder, CURVES))
    strips = copy_strips(runs, folder)
    written = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    atomic_write(opts.output, render(runs, opts.out, strips, written))
    print("wrote %s and its figures in %s" % (opts.output, folder))


if __name__ == "__main__":
    main()
