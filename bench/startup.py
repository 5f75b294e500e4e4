"""Time from `python main.py --mode train` to the first finished training step
(not a test).

    python bench/startup.py [--preset cpu] [--repeats 3] [extra main.py flags ...]

Runs the real command in a fresh process, on a synthetic dataset prepared
beforehand (so data generation is not counted), once for each phase:

- pre-training: `--epochs 1 --rl_epochs 0 --steps_per_epoch 2`
- Algorithm 1:  `--epochs 1 --pretrain_epochs 0 --steps_per_epoch 2` (the RL
  graph from the start, as after a resume into the RL epochs)

and reads what the command prints: "<phase> graph ready in S s (N ops)" and
"first <phase> step done S s after the command started" (the clock starts
before the imports). Held-out evaluation is off. Prints a Markdown table with
the median over `--repeats` runs; docs/performance.md has the results.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = {"pretrain": ["--epochs", "1", "--rl_epochs", "0"],
          "rl": ["--epochs", "1", "--pretrain_epochs", "0"]}
READY = re.compile(r"(\w+) graph ready in ([\d.]+) s \((\d+) ops\)")
FIRST = re.compile(r"first (\w+) step done ([\d.]+) s after the command started")


def run(argv):
    """One command => (graph seconds, ops, seconds to the first step, wall seconds)."""
    started = time.time()
    out = subprocess.run([sys.executable, os.path.join(ROOT, "main.py")] + argv,
                         capture_output=True, text=True, cwd=ROOT)
    wall = time.time() - started
    if out.returncode != 0:
        sys.exit("main.py %s failed:\n%s" % (" ".join(argv), out.stderr[-3000:]))
    text = out.stdout + out.stderr
    ready, first = READY.search(text), FIRST.search(text)
    if not (ready and first):
        sys.exit("main.py printed no graph/first-step times:\n" + text[-3000:])
    return float(ready.group(2)), int(ready.group(3)), float(first.group(2)), wall


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="cpu")
    p.add_argument("--repeats", type=int, default=3)
    opts, extra = p.parse_known_args()
    data_dir = tempfile.mkdtemp(prefix="rl_v2v_gan_startup_")
    common = ["--mode", "train", "--dataset", "synthetic", "--preset", opts.preset,
              "--data_dir", data_dir, "--steps_per_epoch", "2", "--eval_every", "0"] + extra
    subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--mode", "prepare_data",
                    "--preset", opts.preset, "--data_dir", data_dir] + extra,
                   check=True, capture_output=True, cwd=ROOT)
    print("| phase | graph build s | ops | first step done, s after start | whole command s |")
    print("|---|---|---|---|---|")
    for phase, flags in PHASES.items():
        rows = []
        for k in range(opts.repeats):
            ckpt = os.path.join(data_dir, "ckpt_%s_%d" % (phase, k))
            rows.append(run(common + flags + ["--checkpoint_dir", ckpt]))
        median = [statistics.median(column) for column in zip(*rows)]
        print("| %s | %.1f | %d | %.1f | %.1f |" % (phase, median[0], median[1], median[2],
                                                    median[3]))
    print("\n`python bench/startup.py --preset %s %s`, median of %d runs each"
          % (opts.preset, " ".join(extra), opts.repeats))


if __name__ == "__main__":
    main()
