"""How fast the input pipeline serves batches (it must never be the bottleneck).

    python bench/data_pipeline.py [--data_dir DIR] [--input_shape 16 64 64 3] [--batch 4]

Uses the prepared synthetic dataset in DIR (generated there if missing; by
default in a temporary folder, removed at the end) and times, on one thread,
each Sampler call that training makes: clips per domain, single frames,
Ẑ images and specific clips.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import config, data  # noqa: E402


def rate(call, seconds):
    """Calls per second of `call()`, timed for about `seconds`."""
    call()  # warm up: page in the memory map
    n, start = 0, time.time()
    while time.time() - start < seconds:
        call()
        n += 1
    return n / (time.time() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", help="default: a temporary folder")
    p.add_argument("--input_shape", type=int, nargs=4, default=[16, 64, 64, 3])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    opts = p.parse_args()
    data_dir = opts.data_dir or tempfile.mkdtemp(prefix="rl_v2v_gan_bench_")
    try:
        args = config.parse_args(["--mode", "train", "--dataset", "synthetic", "--data_dir",
                                  data_dir, "--input_shape"] + [str(n) for n in opts.input_shape])
        dataset = data.ensure_dataset(args)
        sampler = data.Sampler(dataset, seed=0)
        b = opts.batch
        print("batch %d, T H W C = %s" % (b, " ".join(map(str, dataset.shape))))
        for domain in ("X", "Y", "Z"):
            r = rate(lambda d=domain: sampler.clips(d, b), opts.seconds)
            print("  clips(%s, %d)      %8.0f batches/s  %8.0f clips/s" % (domain, b, r, r * b))
        r = rate(lambda: sampler.clip_at("X", 0), opts.seconds)
        print("  clip_at(X, 0)       %8.0f clips/s" % r)
        for name, call in (("frames", sampler.frames), ("images", sampler.images)):
            r = rate(lambda c=call: c(b), opts.seconds)
            print("  %-6s(%d)           %8.0f batches/s  %8.0f frames/s" % (name, b, r, r * b))
    finally:
        if not opts.data_dir:
            shutil.rmtree(data_dir)


if __name__ == "__main__":
    main()
