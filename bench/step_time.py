"""Graph build, op count, first step and seconds per pre-training step, in one
process (not a test; faster than bench/benchmark.py, no FLOP count).

    python bench/step_time.py [--steps 8] [--grappler off] [main.py flags ...]

Builds the pre-training `TrainGraph` for `--preset cpu` plus the given flags
and runs it on random clips (so no dataset is needed): one first step, then
the median and the fastest of `--steps` timed steps. docs/performance.md
(changes 8 and 12) has the results.
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
from rl_v2v_gan.tf_compat import session_config, tf  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--grappler", choices=("on", "off"), default="off")
    opts, flags = p.parse_known_args()
    args = config.parse_args(["--mode", "train", "--preset", "cpu"] + flags)
    imported = time.time() - STARTED
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        started = time.time()
        step = TrainGraph(args, "pretrain").pretrain
        build = time.time() - started
        init = tf.global_variables_initializer()
    graph.finalize()
    rng = np.random.RandomState(0)
    T, H, W, C = args.input_shape
    B = args.batch_size
    shapes = {"x": (B, T, H, W, C), "y": (B, T, H, W, C), "z": (B, T, H, W, C),
              "z_hat": (B, H, W, C)}

    def feed():
        clips = {step.inputs[k]: rng.uniform(-1, 1, s) for k, s in shapes.items()}
        clips.update({step.inputs["t_x"]: rng.randint(1, T, B),
                      step.inputs["t_yz"]: rng.randint(1, T, 2 * B)})
        return clips

    with tf.Session(graph=graph, config=session_config(grappler=opts.grappler)) as sess:
        sess.run(init)
        started = time.time()
        sess.run(step.op, feed())
        first = time.time() - started
        times = []
        for _ in range(opts.steps):
            clips = feed()
            started = time.time()
            sess.run(step.op, clips)
            times.append(time.time() - started)
    print("| imports s | graph build s | ops | first step s | s/step (median of %d) | min |"
          % opts.steps)
    print("|---|---|---|---|---|---|")
    print("| %.1f | %.1f | %d | %.2f | %.3f | %.3f |" % (
        imported, build, len(graph.get_operations()), first, float(np.median(times)),
        min(times)))
    print("\n`python bench/step_time.py --grappler %s %s`" % (opts.grappler, " ".join(flags)))


if __name__ == "__main__":
    main()
