"""The Markdown report of `scripts/reproduce_synthetic.sh` (docs/results.md).

    python scripts/results_table.py RUN_DIR... --commands COMMANDS_TSV --output docs/results.md
        [--started ISO_DATE] [--wall_seconds S] [--invocation "SHAPE=... scripts/..."]

Each RUN_DIR is a checkpoint folder holding `config.json` (written by
training), `eval.csv` (held-out metrics during training, `--eval_every`) and
`metrics.json` and `samples/` (written by `--mode eval`). COMMANDS_TSV has
one line per command run: `step<TAB>wall seconds<TAB>command`, the steps of
a run being `train_<folder name>` and `eval_<folder name>`. The report adds
the machine; its figures (training curves, sample strips) go to
`figures/` beside it. Everything is written atomically.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from plot_curves import TARGETS, plot, reached  # noqa: E402
from rl_v2v_gan.config import CONFIG_FILE  # noqa: E402
from rl_v2v_gan.evaluation import METRICS_FILE  # noqa: E402
from rl_v2v_gan.files import atomic_write  # noqa: E402
from rl_v2v_gan.metrics import METRICS, NOT_APPLICABLE  # noqa: E402
from rl_v2v_gan.monitor import CSV_FILE, read_rows  # noqa: E402
from rl_v2v_gan.tf_compat import tf  # noqa: E402

# Metric columns in table order; FID last, as it needs the Inception graph.
COLUMNS = [k for k in METRICS if k != "fid"] + ["fid"]
# Flags shown under Settings: (key in config.json, label).
SETTINGS = (("recipe", "recipe"), ("preset", "preset"), ("seed", "seed"),
            ("input_shape", "clip size T H W C"), ("filters", "filters F1 F2 F3"), ("output_filters", "generators' output ConvLSTM"),
            ("batch_size", "batch size"), ("pretrain_epochs", "pre-training epochs"),
            ("rl_epochs", "Algorithm-1 epochs"), ("steps_per_epoch", "steps per epoch"),
            ("learning_rate", "learning rate"), ("lr_decay", "learning-rate decay"),
            ("actor_lr_scale", "actor's learning rate (x learning rate)"),
            ("sigma1", "sigma1"), ("sigma2", "sigma2"), ("gamma", "gamma"), ("tau", "tau"),
            ("gan_loss", "GAN loss"), ("frame_terms", "frame terms"),
            ("d_norm", "discriminators' normalization"), ("bounce_negatives", "bounce negatives"),
            ("shift_negatives", "shift negatives"),
            ("recycle_frames", "recycle frames"), ("lambda_rr", "lambda_rr"),
            ("lambda_rc", "lambda_rc"), ("lambda_v", "lambda_v"), ("lambda_id", "lambda_id"),
            ("average_decay", "generators' weight average (decay)"),
            ("eval_every", "held-out eval every (steps)"),
            ("recompute", "recomputation"), ("grappler", "TensorFlow graph optimizer"))
MISSING = "—"


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("error: cannot read %s: %s" % (path, e))


class Run(object):
    """One trained and evaluated model: `name` (its folder), `config`, `report`."""

    def __init__(self, directory):
        self.directory = directory
        self.name = os.path.basename(os.path.normpath(directory))
        self.config = read_json(os.path.join(directory, CONFIG_FILE))
        self.report = read_json(os.path.join(directory, METRICS_FILE))
        self.metrics = self.report["metrics"]
        self.curve = read_rows(os.path.join(directory, CSV_FILE))

    @property
    def label(self):
        """What the run is, from its flags."""
        if self.config["model"] == "frame":
            return "frame-based baseline"
        if self.config["rl_epochs"] == 0:
            return "no-RL ablation"
        return "RL-V2V-GAN (seed %d)" % self.config["seed"]

    def sample(self):
        """The first sample strip eval wrote (None if there is none)."""
        folder = os.path.join(self.directory, "samples")
        names = sorted(n for n in os.listdir(folder) if n.endswith("_x2y_0.png")) \
            if os.path.isdir(folder) else []
        return os.path.join(folder, names[-1]) if names else None

    @property
    def epochs(self):
        return "%d + %d" % (self.config["pretrain_epochs"], self.config["rl_epochs"])


def read_commands(path):
    """`[(step, seconds, command)]` in the order they ran."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                step, seconds, command = line.rstrip("\n").split("\t", 2)
                rows.append((step, int(seconds), command))
    return rows


def duration(seconds):
    seconds = int(round(seconds))
    return "%d h %02d min %02d s" % (seconds // 3600, seconds % 3600 // 60, seconds % 60) \
        if seconds >= 3600 else "%d min %02d s" % (seconds // 60, seconds % 60)


def number(key, value):
    if not isinstance(value, (int, float)):
        return MISSING if value == NOT_APPLICABLE else str(value)
    return "%.2f" % value if key == "psnr" else "%.4f" % value


def metrics_table(runs):
    """The comparison table; the best value of each column in bold."""
    columns = [k for k in COLUMNS if any(k in r.metrics for r in runs)]
    header = ["model"] + ["%s %s" % (METRICS[k][0], "↑" if METRICS[k][1] == "higher" else "↓")
                          for k in columns]
    cells = [[r.label] + [number(k, r.metrics.get(k, NOT_APPLICABLE)) for k in columns]
             for r in runs]
    for j, key in enumerate(columns, 1):
        values = [r.metrics.get(key) for r in runs]
        numeric = [v for v in values if isinstance(v, (int, float))]
        if len(numeric) > 1 and len(set(numeric)) > 1:
            best = (max if METRICS[key][1] == "higher" else min)(numeric)
            for row, value in zip(cells, values):
                if value == best:
                    row[j] = "**%s**" % row[j]
    return markdown_table(header, cells)


def targets_table(runs):
    """When each run first met the targets on its held-out curve, and its best values."""
    rows = []
    for r in runs:
        if not r.curve:
            rows.append([r.label] + [MISSING] * 4)
            continue
        hit = reached(r.curve)
        first = reached(r.curve, {"background_accuracy": TARGETS["background_accuracy"]})
        rows.append([r.label,
                     "step %d, %s" % (first["step"], duration(first["seconds"])) if first
                     else "never (%d steps)" % r.curve[-1]["step"],
                     "step %d, %s" % (hit["step"], duration(hit["seconds"])) if hit
                     else "never (%d steps)" % r.curve[-1]["step"],
                     "%.3f" % max(row["background_accuracy"] for row in r.curve),
                     "%.2f" % max(row["psnr"] for row in r.curve)])
    return markdown_table(["model", "background accuracy ≥ %.2f first at"
                           % TARGETS["background_accuracy"],
                           "both targets (and PSNR ≥ %g dB) first at" % TARGETS["psnr"],
                           "best background accuracy", "best PSNR (dB)"], rows)


def figures(runs, folder):
    """Write the curves and copy the sample strips into `folder`; returns
    `(curves file or None, [(label, strip file)])`, names relative to it."""
    os.makedirs(folder, exist_ok=True)
    curves = None
    with_curve = [(r.label, r.curve) for r in runs if r.curve]
    if with_curve:
        curves = "curves.png"
        plot(with_curve, os.path.join(folder, curves),
             "held-out X -> Y translation during training (--eval_every)")
    strips = []
    for r in runs:
        source = r.sample()
        if source:
            name = "sample_%s.png" % r.name
            with open(source, "rb") as f:
                atomic_write(os.path.join(folder, name), f.read(), "wb")
            strips.append((r.label, name))
    return curves, strips


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def setting(runs, key):
    """A flag's value; per model when the runs differ."""
    shown = [" ".join(map(str, v)) if isinstance(v, list) else str(v)
             for v in (r.config.get(key, MISSING) for r in runs)]
    if len(set(shown)) == 1:
        return shown[0]
    return "; ".join("%s: %s" % (r.label, v) for r, v in zip(runs, shown))


def machine():
    """`[(what, value)]` describing this machine and software."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        ram = "%.1f GB" % (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9)
    except (ValueError, OSError, AttributeError):
        ram = "unknown"
    gpus = len(tf.config.experimental.list_physical_devices("GPU"))
    return [("CPU", cpu), ("cores", str(os.cpu_count())), ("RAM", ram),
            ("GPUs", str(gpus) if gpus else "none"), ("OS", platform.platform()),
            ("Python", platform.python_version()), ("TensorFlow", tf.version.VERSION),
            ("code", git_version())]


def git_version():
    """The commit of the working tree, and whether it had uncommitted changes."""
    try:
        commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                         stderr=subprocess.DEVNULL, universal_newlines=True)
        dirty = subprocess.check_output(["git", "status", "--porcelain", "--untracked-files=no"],
                                        cwd=ROOT, universal_newlines=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return "commit %s%s" % (commit.strip(), " with uncommitted changes" if dirty.strip() else "")


def render(runs, commands, started, wall_seconds, invocation, figures_dir=None,
           curves=None, strips=(), peaks=()):
    """The whole document; figures are linked as `figures_dir/<name>`; `peaks`:
    `[(when, bench/benchmark.py --peak_only JSON)]`."""
    seconds = {step: s for step, s, _ in commands}
    first = runs[0].report
    clips, split = first["clips"], first["split"]
    lines = ["# Results on the synthetic dataset", "",
             "Written by `scripts/reproduce_synthetic.sh`%s. Models trained on the same "
             "data, at the same size and for as many steps, and evaluated alike: "
             "RL-V2V-GAN (pre-training, then Algorithm 1), the no-RL ablation (pre-training "
             "only) and the frame-based baseline (`--model frame`, pre-training only)."
             % (" on %s" % started if started else ""), "",
             "## Comparison", "",
             "X → Y translation of the first %d %s clips of X (`--mode eval`, %s per model)."
             % (clips, split, ", ".join(sorted({"step %s" % r.report.get("step") for r in runs}))),
             "",
             metrics_table(runs), "",
             "PSNR and SSIM compare each frame with its paired ground truth (the same motion "
             "rendered in the target style: circles on blue, then red); background accuracy "
             "is the fraction of frames whose background has the target colour (blue for "
             "t < T/2, then red); warping error and flicker (the output's frame-to-frame "
             "change minus the source's) measure temporal consistency; FID compares translated "
             "frames with real Y frames. ↑ higher is better, ↓ lower; the best of each column "
             "is in bold. See README.md, Metrics."]
    lines += ["", "## Time to quality", "",
              "From each run's held-out curve (`eval.csv`, the same metrics on the test "
              "clips every `--eval_every` steps during training); the time is wall-clock "
              "from the start of the training command, graph building included.", "",
              targets_table(runs)]
    if curves:
        lines += ["", "![training curves](%s/%s)" % (figures_dir, curves)]
    if strips:
        lines += ["", "## Samples", "",
                  "First test clip, at the end of training: rows source (X), translation, "
                  "ground truth; time from left to right.", ""]
        for label, name in strips:
            lines += ["%s:" % label, "", "![%s](%s/%s)" % (label, figures_dir, name), ""]
    notes = sorted({r.report["fid_note"] for r in runs if "fid_note" in r.report})
    if notes:
        lines += ["", "FID is %s where eval had no Inception-v3 graph (give one to the script "
                  "as `INCEPTION=.../classify_image_graph_def.pb`). Eval's note:" % MISSING, ""]
        lines += ["> %s" % note.replace("<", "&lt;").replace(">", "&gt;") for note in notes]
    lines += ["", "## Settings", ""]
    lines += ["- %s: %s" % (label, setting(runs, key)) for key, label in SETTINGS]
    lines += ["- eval: %d %s clips of X (`--eval_batches` × `--batch_size`), direction x2y"
              % (clips, split)]
    if invocation:
        lines += ["", "Reproduce with:", "", "```bash", invocation, "```"]
    lines += ["", "## Wall time", "",
              markdown_table(["model", "epochs (pre-training + Algorithm 1)", "training", "eval"],
                             [[r.label, r.epochs] + [duration(seconds[s]) if s in seconds
                                                     else MISSING
                                                     for s in ("train_" + r.name, "eval_" + r.name)]
                              for r in runs])]
    if "branch_no_rl" in seconds:
        lines += ["", "The no-RL ablation shares the pre-training of %s: it started from that "
                  "model's checkpoint at the end of pre-training (`branch_no_rl` in Commands), "
                  "so its training time above is that of its last epochs only, and its "
                  "held-out curve up to there, seconds included, is that model's."
                  % runs[0].label]
    if wall_seconds is not None:
        lines += ["", "The whole reproduction up to this report: %s." % duration(wall_seconds)]
    lines += ["", "## Commands", "", "Run from the repository root, in this order:", "",
              "```bash"]
    for step, s, command in commands:
        lines += ["# %s (%s)" % (step, duration(s)), command]
    lines += ["```", "", "## Machine", ""]
    lines += ["- %s: %s" % item for item in machine()]
    if peaks:
        lines += ["- measured fp32 peak (`python bench/benchmark.py --peak_only`, best of a "
                  "matmul and a convolution): %s; wall times scale with it"
                  % ", ".join("%.0f GFLOP/s %s" % (p["peak_gflops"], when) for when, p in peaks)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="checkpoint folders with config.json and metrics.json")
    p.add_argument("--commands", required=True, help="TSV: step, wall seconds, command")
    p.add_argument("--output", required=True)
    p.add_argument("--started", help="when the reproduction started (shown as the date)")
    p.add_argument("--wall_seconds", type=float, help="wall time of the whole reproduction")
    p.add_argument("--invocation", help="the command line that reproduces these results")
    p.add_argument("--peak_start", help="JSON of `bench/benchmark.py --peak_only` before training")
    p.add_argument("--peak_end", help="the same, after training")
    opts = p.parse_args(argv)
    peaks = []
    for when, path in (("before training", opts.peak_start), ("after", opts.peak_end)):
        if path:
            with open(path) as f:
                peaks.append((when, json.load(f)))
    runs = [Run(d) for d in opts.runs]
    started = opts.started or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    figures_dir = "figures"
    curves, strips = figures(runs, os.path.join(os.path.dirname(os.path.abspath(opts.output)),
                                                figures_dir))
    text = render(runs, read_commands(opts.commands), started, opts.wall_seconds,
                  opts.invocation, figures_dir, curves, strips, peaks)
    atomic_write(opts.output, text)
    print("wrote %s" % opts.output)


if __name__ == "__main__":
    main()
