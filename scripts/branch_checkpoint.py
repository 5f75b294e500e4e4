"""Start a model from another's checkpoint at the end of its pre-training.

    python scripts/branch_checkpoint.py SOURCE DESTINATION

`reproduce_synthetic.sh` uses it for the no-RL ablation: RL-V2V-GAN (same
seed, same data) has already run the same pre-training epochs, so the
ablation starts from that model's checkpoint at the last pre-training step,
`pretrain_epochs x steps_per_epoch`, and only its remaining epochs
(gradient steps instead of Algorithm 1) are trained; re-running `--mode
train` in DESTINATION then resumes from there. The checkpoint files and
SOURCE's held-out curve (`eval.csv`: the resumed run keeps its rows up to
that step and continues their seconds) are copied; the `checkpoint` index
is written last, so an interrupted copy is no checkpoint at all.

When SOURCE no longer keeps that checkpoint (`--max_to_keep`) or has no
Algorithm-1 epochs, nothing is copied and DESTINATION trains from scratch.
"""
import argparse
import glob
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from rl_v2v_gan.config import CONFIG_FILE  # noqa: E402
from rl_v2v_gan.files import atomic_write  # noqa: E402
from rl_v2v_gan.monitor import CSV_FILE, read_rows  # noqa: E402


def branch(source, destination):
    """Copy SOURCE's end-of-pre-training checkpoint into DESTINATION; returns
    its step, or None when there is none to copy (the reason is printed)."""
    config_path = os.path.join(source, CONFIG_FILE)
    if not os.path.isfile(config_path):
        sys.exit("error: %s: no %s (not a trained model folder)" % (source, CONFIG_FILE))
    with open(config_path) as f:
        config = json.load(f)
    step = config["pretrain_epochs"] * config["steps_per_epoch"]
    prefix = "%s-%d" % (config["checkpoint_name"], step)
    files = sorted(glob.glob(os.path.join(source, glob.escape(prefix) + ".*")))
    if not config["rl_epochs"] or not any(f.endswith(".index") for f in files):
        print("%s keeps no checkpoint at the end of pre-training (%s): %s trains from scratch"
              % (source, prefix, destination))
        return None
    if os.path.isdir(destination) and os.listdir(destination):
        sys.exit("error: %s exists and is not empty" % destination)
    os.makedirs(destination, exist_ok=True)
    for path in files:
        shutil.copy2(path, destination)
    # Training drops the rows after the step it resumes from (monitor.HeldOut).
    curve = os.path.join(source, CSV_FILE)
    rows = [r for r in read_rows(curve) if r["step"] <= step]
    if rows:
        shutil.copy2(curve, destination)
    atomic_write(os.path.join(destination, "checkpoint"),
                 'model_checkpoint_path: "%s"\nall_model_checkpoint_paths: "%s"\n'
                 % (prefix, prefix))
    print("%s starts from %s at step %d (end of pre-training), with %d held-out rows"
          % (destination, os.path.join(source, prefix), step, len(rows)))
    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("source", help="checkpoint folder of the model that ran the pre-training")
    p.add_argument("destination", help="checkpoint folder to start (absent or empty)")
    opts = p.parse_args(argv)
    branch(opts.source, opts.destination)


if __name__ == "__main__":
    main()
