"""The paper's configuration on 4 GPUs, checked on virtual CPU devices (not a test).

    python bench/paper_towers.py [--skip_step] [--json PATH]

1. Builds the real training graphs of `--preset paper --num_gpus 4` with
   the default recipe (pre-training and Algorithm 1, through
   `training.Trainer`) on 4 virtual CPU devices, one tower per device, and
   reports the ops placed on each device and the build time.
2. The memory of one tower: a tower holds one clip (batch 4 / 4 towers), so
   a subprocess runs pre-training steps of `--preset paper --batch_size 1`
   on one device and reports its peak RSS, the RSS before its first step
   (the TensorFlow runtime, the graph, variables and optimizer slots: on a
   GPU these live mostly in host memory), and their difference, the
   memory a step's activations and workspaces take: what a tower needs on
   its GPU, next to its variables (`variables_mb`). `--skip_step` skips it
   (a step at this size takes minutes on 2 cores).

docs/performance.md ("The paper's size on 4 GPUs") has the numbers of the
development machine.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TOWERS = 4


def _args(data_dir, *extra):
    from rl_v2v_gan import config
    return config.parse_args(["--mode", "train", "--dataset", "synthetic", "--preset", "paper",
                              "--device", "cpu", "--data_dir", data_dir,
                              "--checkpoint_dir", os.path.join(data_dir, "run")] + list(extra))


def rss_gb():
    """This process's current resident memory in GB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def build(data_dir):
    """Both phases' graphs with TOWERS towers => {phase: {ops per device, build s}}."""
    from rl_v2v_gan import data, training
    args = _args(data_dir, "--num_gpus", str(TOWERS))
    sampler = data.Sampler(data.ensure_dataset(args), seed=0)
    out = {}
    for phase in ("pretrain", "rl"):
        started = time.time()
        trainer = training.Trainer(args, phase, sampler, training.Interrupt())
        seconds = time.time() - started
        per_device = {}
        for op in trainer.graph.get_operations():
            per_device[op.device or "(unplaced)"] = per_device.get(op.device or "(unplaced)",
                                                                   0) + 1
        towers = {d: n for d, n in per_device.items() if "CPU:" in d.upper()}
        out[phase] = {"build_s": round(seconds, 1), "ops": len(trainer.graph.get_operations()),
                      "ops_per_device": dict(sorted(per_device.items())),
                      "devices_used": sorted(towers),
                      "devices_in_session": len(trainer.sess.list_devices())}
        trainer.close()
    return out


def tower_step(data_dir, steps):
    """Run in a subprocess: `steps` pre-training steps of one tower's share."""
    import numpy as np
    from rl_v2v_gan import data, training
    args = _args(data_dir, "--batch_size", str(4 // TOWERS))
    sampler = data.Sampler(data.ensure_dataset(args), seed=0)
    trainer = training.Trainer(args, "pretrain", sampler, training.Interrupt())
    variables = sum(int(np.prod(v.shape.as_list())) * 4 for v in trainer.graph.get_collection(
        "variables"))
    before = rss_gb()
    rng, seconds = np.random.RandomState(0), []
    for _ in range(steps):
        started = time.time()
        trainer.pretrain_step(rng)
        seconds.append(time.time() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({"rss_before_step_gb": round(before, 2), "peak_rss_gb": round(peak, 2),
                      "step_memory_gb": round(peak - before, 2),
                      "variables_mb": round(variables / 1e6, 1),
                      "step_s": [round(s, 1) for s in seconds]}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--skip_step", action="store_true", help="only build the 4-tower graphs")
    p.add_argument("--steps", type=int, default=2, help="one tower's steps (the first warms up)")
    p.add_argument("--json", help="write the numbers to this file")
    p.add_argument("--tower_step", help=argparse.SUPPRESS)   # the subprocess
    opts = p.parse_args()
    if opts.tower_step:
        return tower_step(opts.tower_step, opts.steps)
    data_dir = tempfile.mkdtemp(prefix="paper_towers.")
    try:
        report = {"towers": TOWERS, "build": build(data_dir)}
        for phase, b in report["build"].items():
            print("%s graph, --preset paper --num_gpus %d: %d ops in %.1f s; ops per device: %s"
                  % (phase, TOWERS, b["ops"], b["build_s"], ", ".join(
                      "%s %d" % kv for kv in b["ops_per_device"].items())))
        if not opts.skip_step:
            done = subprocess.run([sys.executable, os.path.abspath(__file__), "--tower_step",
                                   data_dir, "--steps", str(opts.steps)],
                                  stdout=subprocess.PIPE, universal_newlines=True, check=True)
            report["tower"] = json.loads(done.stdout.strip().splitlines()[-1])
            t = report["tower"]
            print("one tower (batch 1 of the paper's 4): peak RSS %.2f GB, %.2f GB before the "
                  "first step, a step's memory %.2f GB; variables %.1f MB; steps %s s"
                  % (t["peak_rss_gb"], t["rss_before_step_gb"], t["step_memory_gb"],
                     t["variables_mb"], t["step_s"]))
        if opts.json:
            with open(opts.json, "w") as f:
                json.dump(report, f, indent=2, sort_keys=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
