"""Graph build, op count, first step and seconds per pre-training step, in one
process (not a test; faster than bench/benchmark.py, no FLOP count).

    python bench/step_time.py [--steps 8] [--grappler off] [main.py flags ...]
    python bench/step_time.py --compare_precision [--steps 8] [main.py flags ...]

Builds the pre-training `TrainGraph` for `--preset cpu` plus the given flags
and runs it on random clips (so no dataset is needed): one first step, then
the median and the fastest of `--steps` timed steps. With
`--compare_precision` it builds the step in fp32 and in bf16 (`--precision`),
times them alternately (one step of each in turn, so both see the same
machine) and prints `bf16 speed-up: X.XX` (ratio of the medians), with the
machine's fp32 peak measured in the same process (`bench/benchmark.py
--peak_only`'s measurement). docs/performance.md has the results.
"""
import argparse
import os
import sys
import time

STARTED = time.time()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from rl_v2v_gan import config  # noqa: E402
from rl_v2v_gan.model import TrainGraph  # noqa: E402
from rl_v2v_gan.tf_compat import check_bfloat16, session_config, tf  # noqa: E402


class Step(object):
    """The pre-training step of `args` in its own graph and session, fed random clips."""

    def __init__(self, args, grappler):
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(0)
            started = time.time()
            self.step = TrainGraph(args, "pretrain").pretrain
            self.build = time.time() - started
            init = tf.global_variables_initializer()
        self.graph.finalize()
        self.ops = len(self.graph.get_operations())
        self.session = tf.Session(graph=self.graph, config=session_config(grappler=grappler))
        self.session.run(init)
        T, H, W, C = args.input_shape
        B = args.batch_size
        self.shapes = {"x": (B, T, H, W, C), "y": (B, T, H, W, C), "z": (B, T, H, W, C),
                       "z_hat": (B, H, W, C)}
        self.T, self.B = T, B
        self.rng = np.random.RandomState(0)
        self.times = []
        self.first = self.run(timed=False)

    def run(self, timed=True):
        """One step on fresh random clips => its seconds (kept in `times` if `timed`)."""
        feed = {self.step.inputs[k]: self.rng.uniform(-1, 1, s) for k, s in self.shapes.items()}
        feed.update({self.step.inputs["t_x"]: self.rng.randint(1, self.T, self.B),
                     self.step.inputs["t_yz"]: self.rng.randint(1, self.T, 2 * self.B)})
        started = time.time()
        self.session.run(self.step.op, feed)
        seconds = time.time() - started
        if timed:
            self.times.append(seconds)
        return seconds

    def row(self, label):
        return "| %s | %.1f | %d | %.2f | %.3f | %.3f |" % (
            label, self.build, self.ops, self.first, float(np.median(self.times)),
            min(self.times))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--grappler", choices=("on", "off"), default="off")
    p.add_argument("--compare_precision", action="store_true",
                   help="time the step in fp32 and bf16, alternately, and print the speed-up")
    opts, flags = p.parse_known_args()
    args = config.parse_args(["--mode", "train", "--preset", "cpu"] + flags)
    imported = time.time() - STARTED
    precisions = ("fp32", "bf16") if opts.compare_precision else (args.precision,)
    problem = check_bfloat16() if "bf16" in precisions else None
    if problem:
        sys.exit("error: --precision bf16: %s" % problem)
    steps = {k: Step(args.replace(precision=k), opts.grappler) for k in precisions}
    for _ in range(opts.steps):
        for step in steps.values():
            step.run()
    print("imports: %.1f s" % imported)
    print("| precision | graph build s | ops | first step s | s/step (median of %d) | min |"
          % opts.steps)
    print("|---|---|---|---|---|---|")
    for k, step in steps.items():
        print(step.row(k))
    if opts.compare_precision:
        from benchmark import measure_peak
        peak = measure_peak({"repeats": 5})["peak_gflops"]
        speedup = np.median(steps["fp32"].times) / np.median(steps["bf16"].times)
        print("\nfp32 peak: %.0f GFLOP/s (measured after the steps)" % peak)
        print("bf16 speed-up: %.2f" % speedup)
    print("\n`python bench/step_time.py --grappler %s%s %s`" % (
        opts.grappler, " --compare_precision" if opts.compare_precision else "", " ".join(flags)))


if __name__ == "__main__":
    main()
