"""Resident memory over many training steps: it must not grow with steps.

    python scripts/memory_check.py --steps 200 [--phase pretrain|rl]

Trains a tiny model (T=4, 32x32, batch 2, filters 8 16 32) in a temporary
folder and prints the peak RSS every 20 steps.
"""
import argparse
import os
import resource
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import data  # noqa: E402
from rl_v2v_gan.config import parse_args  # noqa: E402
from rl_v2v_gan.training import Interrupt, Trainer  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--phase", choices=("pretrain", "rl"), default="pretrain")
    opts = p.parse_args()
    tmp = tempfile.mkdtemp()
    args = parse_args(["--mode", "train", "--input_shape", "4", "32", "32", "3",
                       "--batch_size", "2", "--filters", "8", "16", "32", "--grappler", "off",
                       "--data_dir", os.path.join(tmp, "data"),
                       "--checkpoint_dir", os.path.join(tmp, "ckpt")])
    sampler = data.Sampler(data.ensure_dataset(args), seed=0)
    trainer = Trainer(args, opts.phase, sampler, Interrupt())
    rng = np.random.RandomState(0)
    videos = sampler.videos()
    print("step  RSS_MB")
    for step in range(1, opts.steps + 1):
        if opts.phase == "pretrain":
            trainer.pretrain_step(rng)
        else:
            trainer.rl_step(videos[step % len(videos)], rng)
        if step == 1 or step % 20 == 0:
            print("%4d  %.1f" % (step, rss_mb()), flush=True)
    trainer.close()


if __name__ == "__main__":
    main()
