"""What one training step of RL-V2V-GAN costs on this machine (not a test).

    python bench/benchmark.py [--quick] [--json PATH] [--grappler on|off] [--recompute on|off]

For each configuration a fresh subprocess builds the real training graph
(`TrainGraph` through `training.Trainer`, on a generated synthetic dataset),
runs warm-up steps, then times the step and reports:

- FLOPs per step, counted on the real graph by bench/flops.py (the
  profiler's per-op statistics times each op's loop trip count; placeholders
  get a static batch, `Trainer(static_batch=True)`).
- seconds per step: median of `--steps` timed steps after `--warmup` steps
  (the first run of a graph pays for Grappler and allocations);
- with `--recompute on` (the default except for --quick) also the model's
  FLOPs: the same step counted with `--recompute off`, and the utilization
  the measured time gives on them;
- achieved GFLOP/s, and utilization = achieved / peak, where peak is the
  best fp32 rate of a 2048x2048 matmul or a [8, 64, 64, 256] 3x3 -> 256
  convolution measured in the same run (at the start and at the end);
- peak RSS of the subprocess (`getrusage`), and frames/s = batch * T / s.

Sections: the default configuration (T=16, 64x64, batch 4, filters 64 128
256) and a sweep over T, H=W and batch (`--sweep axes`: one axis at a time
around `--sweep_base`, T=4, 32x32, batch 2; `--sweep grid`: every combination); one Algorithm-1
iteration (collect m new transitions, DDPG update, discriminator update)
against one pre-training step at `--rl_shape`; and `G_Y` alone, one Adam
step on mean((G_Y(x) - x)^2) at `--gy_shape`, also rated by the FLOPs of
its ConvLSTM convolutions alone (the graph's conv ops in `conv_lstm` scopes,
forward and backward).

A configuration whose predicted peak RSS (from the runs before it) exceeds
`--mem_limit_gb` is not run, only its FLOPs are counted; each subprocess
also runs under RLIMIT_DATA so an underestimate fails cleanly with "out of
memory" instead of waking the kernel's OOM killer. Prints Markdown tables;
`--json PATH` writes every number (bench/report.py renders them).
docs/performance.md has the method and
the results measured on the development machine.
"""
import argparse
import contextlib
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

from flops import count_flops, flops_of_phase, profiler_flops  # noqa: E402  (bench/)
from report import GB, TARGETS, markdown, machine, targets_met  # noqa: E402

DEFAULT = dict(T=16, H=64, batch=4)
DEFAULT_FILTERS = [64, 128, 256]
SWEEP = dict(T=[4, 8, 16], H=[32, 64, 128], batch=[1, 2, 4, 8])
SWEEP_BASE = [4, 32, 2]
QUICK_FILTERS = [8, 16, 32]
RESULT = "BENCH_RESULT "


# -- measurements (run inside worker subprocesses) ---------------------------
def tf_module():
    from rl_v2v_gan.tf_compat import tf
    return tf

def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def time_calls(call, warmup, steps):
    """Seconds of `steps` calls of `call()` after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def measure_peak(spec):
    """Best-of-`repeats` fp32 GFLOP/s of a large matmul and a large conv2d."""
    tf = tf_module()
    from rl_v2v_gan.tf_compat import session_config
    import numpy as np
    n, (b, h, c) = 2048, (8, 64, 256)
    graph = tf.Graph()
    with graph.as_default():
        init = lambda shape: tf.constant_initializer(
            np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32))
        a = tf.get_variable("a", [n, n], initializer=init([n, n]))
        bm = tf.get_variable("b", [n, n], initializer=init([n, n]))
        x = tf.get_variable("x", [b, h, h, c], initializer=init([b, h, h, c]))
        w = tf.get_variable("w", [3, 3, c, c], initializer=init([3, 3, c, c]))
        # A tiny reduction as the fetch so that no big output is copied out.
        ops = {"matmul": (tf.reduce_sum(tf.matmul(a, bm)[0]), 2.0 * n ** 3),
               "conv": (tf.reduce_sum(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")[0, 0, 0]),
                        2.0 * b * h * h * 9 * c * c)}
        # Grappler on: without it the matmul runs on Eigen, not oneDNN.
        sess = tf.Session(config=session_config(grappler="on"))
        sess.run(tf.global_variables_initializer())
        out = {}
        for name, (op, flops) in ops.items():
            times = time_calls(lambda: sess.run(op), 2, spec["repeats"])
            out[name + "_gflops"] = flops / min(times) / 1e9
            out[name + "_gflops_median"] = flops / median(times) / 1e9
        sess.close()
    out["peak_gflops"] = max(out["matmul_gflops"], out["conv_gflops"])
    out["tensorflow"] = tf.__version__
    return out


def train_args(spec, data_dir=None):
    """The flags of a training run of `spec` (its data and checkpoints in `data_dir`)."""
    from rl_v2v_gan import config
    folders = [] if data_dir is None else [
        "--data_dir", data_dir, "--checkpoint_dir", os.path.join(data_dir, "checkpoints")]
    argv = ["--mode", "train", "--dataset", "synthetic"] + folders + [
            "--input_shape", str(spec["T"]), str(spec["H"]), str(spec["H"]), "3",
            "--batch_size", str(spec["batch"]), "--grappler", spec["grappler"],
            "--recompute", spec["recompute"],
            "--filters"] + [str(f) for f in spec["filters"]]
    # sigma1 = 0: every Algorithm-1 iteration collects m new transitions (the
    # first iterations, and the most expensive ones: no replay).
    return config.parse_args(argv + (["--sigma1", "0"] if spec.get("phase", spec["kind"]) == "rl"
                                     else []))


def measure_train(spec):
    """Time the pre-training step or one Algorithm-1 iteration through Trainer."""
    import numpy as np
    from rl_v2v_gan import data, training
    tf_module()
    data_dir = tempfile.mkdtemp(prefix="rl_v2v_gan_bench_")
    try:
        args = train_args(spec, data_dir)
        sampler = data.Sampler(data.ensure_dataset(args), seed=0)
        start = time.perf_counter()
        trainer = training.Trainer(args, spec["kind"], sampler, training.Interrupt(),
                                   static_batch=True)    # complete shapes for the profiler
        out = {"build_s": time.perf_counter() - start}
        rng = np.random.RandomState(0)
        if spec["kind"] == "pretrain":
            start = time.perf_counter()
            trainer.pretrain_step(rng)
            out["first_step_s"] = time.perf_counter() - start
            times = time_calls(lambda: trainer.pretrain_step(rng), spec["warmup"] - 1,
                               spec["steps"])
        else:
            # Alternate a video of X and one of Y: iterations of both domains.
            videos = sampler.videos()
            by_domain = [next(v for v in videos if v[0] == m) for m in ("X", "Y")]
            start = time.perf_counter()
            for video in by_domain:        # each domain's calls are new to Grappler
                trainer.rl_step(video, rng)
            out["first_step_s"] = (time.perf_counter() - start) / 2
            k = iter(range(10 ** 6))
            step = lambda: trainer.rl_step(by_domain[next(k) % 2], rng)
            for _ in range(max(spec["warmup"] - 1, 0) * 2):
                step()
            trainer.call_seconds.clear()
            times = time_calls(step, 0, spec["steps"])
            calls = np.array(trainer.call_seconds).reshape(spec["steps"], 3)  # collect, ddpg, d
            for j, name in enumerate(("collect", "ddpg", "d_update")):
                out[name + "_s"] = median(calls[:, j].tolist())
        out.update(times=times, seconds=median(times), rss_gb=peak_rss_gb())
        trainer.close()
        start = time.perf_counter()
        out.update(measure_flops_only(dict(spec, phase=spec["kind"])))
        out["count_s"] = time.perf_counter() - start
        return out
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure_flops_only(spec):
    """FLOPs of a configuration without running it: the same step built with
    its graph functions (ConvLSTM recurrences, masked batch norms) in place
    (an `ops.InlinedGraph`), whose ops the profiler does not see in calls."""
    from rl_v2v_gan import model, ops
    graph = ops.InlinedGraph()
    with graph.as_default():
        g = model.TrainGraph(train_args(spec), spec["phase"], static_batch=True)
    return flops_of_phase(graph, g, spec["phase"])


def gy_step(spec, graph_class=None):
    """The graph of one Adam step on mean((G_Y(x) - x)^2) => (graph, x, step op)."""
    tf = tf_module()
    from rl_v2v_gan.networks import build_networks
    B, T, H = spec["batch"], spec["T"], spec["H"]
    graph = (graph_class or tf.Graph)()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [B, T, H, H, 3], name="x")
        G_Y = build_networks(spec["filters"], l2=0.0, symbols=("G_Y",)).G_Y
        loss = tf.reduce_mean(tf.square(G_Y(x) - x))
        opt = tf.train.AdamOptimizer(1e-4)
        grads = opt.compute_gradients(loss, var_list=G_Y.variables(trainable_only=True))
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            step = opt.apply_gradients(grads)
    return graph, x, step


def measure_gy(spec):
    """One Adam step on mean((G_Y(x) - x)^2), x: [batch, T, H, H, 3]."""
    tf = tf_module()
    import numpy as np
    from rl_v2v_gan import ops
    from rl_v2v_gan.tf_compat import session_config
    graph, x, step = gy_step(spec)
    with graph.as_default():
        sess = tf.Session(config=session_config(grappler=spec["grappler"]))
        sess.run(tf.global_variables_initializer())
        graph.finalize()
    feed = {x: np.random.RandomState(0).uniform(-1, 1, x.shape.as_list()).astype(np.float32)}
    start = time.perf_counter()
    sess.run(step, feed)
    out = {"first_step_s": time.perf_counter() - start}
    times = time_calls(lambda: sess.run(step, feed), spec["warmup"] - 1, spec["steps"])
    out.update(times=times, seconds=median(times), rss_gb=peak_rss_gb())
    # Where the time goes: one traced step, summed per op type.
    tf_run_meta = tf.RunMetadata()
    sess.run(step, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
             run_metadata=tf_run_meta)
    out["traced_op_seconds"] = op_type_seconds(tf_run_meta)
    sess.close()
    graph, _, step = gy_step(spec, ops.InlinedGraph)  # FLOPs on the same step, countable ops
    per_op, out["tfprof_static_flops"] = profiler_flops(graph)
    out.update(count_flops(per_op, [[step]]))
    return out


def op_type_seconds(run_meta):
    """Seconds of kernel time per op type in a traced step (all devices, threads summed)."""
    out = {}
    for dev in run_meta.step_stats.dev_stats:
        for node in dev.node_stats:
            label = node.timeline_label
            kind = label.split(" = ", 1)[1].split("(", 1)[0] if " = " in label else node.node_name
            out[kind] = out.get(kind, 0.0) + (node.all_end_rel_micros) / 1e6
    return dict(sorted(out.items(), key=lambda kv: -kv[1])[:15])


WORKERS = {"peak": measure_peak, "pretrain": measure_train, "rl": measure_train,
           "gy": measure_gy, "flops": measure_flops_only}


def worker(spec):
    """Run one measurement in this process; print its JSON on one line."""
    limit = int(spec["mem_limit_gb"] * GB)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    with contextlib.redirect_stdout(sys.stderr):
        out = WORKERS[spec["kind"] if spec["kind"] != "flops_only" else "flops"](spec)
    print(RESULT + json.dumps(out))


# -- the driver --------------------------------------------------------------
def cpu_jiffies():
    """(busy, steal) CPU time of the whole machine in seconds, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / float(hz), steal / float(hz)


def run_worker(spec, log):
    """Run `spec` in a fresh Python; returns (result dict or None, status).

    The result also has `other_cpu`: CPU time the rest of the machine used
    while the worker ran, in cores (0 = the benchmark had the machine to
    itself), and `steal`: time the hypervisor took, in cores."""
    start, jiffies = time.time(), cpu_jiffies()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    with open(log, "a") as f:
        f.write("### %s\n%s\n" % (json.dumps(spec), proc.stderr))
    lines = [l for l in proc.stdout.splitlines() if l.startswith(RESULT)]
    if proc.returncode == 0 and lines:
        out = json.loads(lines[-1][len(RESULT):])
        out["wall_s"] = wall = time.time() - start
        after, used = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN)
        if jiffies and after:
            mine = (used.ru_utime + used.ru_stime) - (children.ru_utime + children.ru_stime)
            out["other_cpu"] = max(after[0] - jiffies[0] - mine, 0.0) / wall
            out["steal"] = (after[1] - jiffies[1]) / wall
        return out, "ok"
    text = proc.stderr.lower()
    oom = (proc.returncode in (-9, 137) or "resourceexhausted" in text or "oom when" in text
           or "bad_alloc" in text or "memoryerror" in text or "cannot allocate" in text)
    tail = [l for l in proc.stderr.strip().splitlines() if l.strip()][-1:] or [""]
    return None, ("out of memory" if oom else "failed (exit %d: %s)" % (proc.returncode,
                                                                      tail[0][:120]))


def available_gb():
    """MemAvailable of /proc/meminfo in GB (None if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("MemAvailable")) / 2.0 ** 20
    except (OSError, StopIteration, ValueError):
        return None


def size_of(cfg):
    return cfg["batch"] * cfg["T"] * cfg["H"] * cfg["H"]


class MemoryModel(object):
    """Peak RSS predicted per kind of step as a line in batch * T * H * W through
    the two largest configurations run so far (through 1 GB at size 0 when
    only one has run); configurations at least as large as one that ran out of
    memory are not tried."""
    BASE = 1.0

    def __init__(self, limit_gb):
        self.limit, self.seen, self.failed = limit_gb, {}, {}

    def add(self, kind, cfg, rss_gb):
        self.seen.setdefault(kind, {})[size_of(cfg)] = rss_gb

    def fail(self, kind, cfg):
        self.failed[kind] = min(self.failed.get(kind, float("inf")), size_of(cfg))

    def predict(self, kind, cfg):
        points = sorted(self.seen.get(kind, {}).items())[-2:]
        if not points:
            return None
        if len(points) == 1:
            points = [(0, self.BASE)] + points
        (s1, r1), (s2, r2) = points
        slope = max(r2 - r1, 0.0) / (s2 - s1)
        return r2 + slope * (size_of(cfg) - s2)

    def too_big(self, kind, cfg):
        predicted = self.predict(kind, cfg)
        if size_of(cfg) >= self.failed.get(kind, float("inf")):
            return "skipped: a smaller configuration ran out of memory"
        if predicted is not None and predicted > self.limit:
            return "skipped: predicted peak RSS %.0f GB > limit %.0f GB" % (predicted, self.limit)
        free = available_gb()
        if predicted is not None and free is not None and predicted + 1.0 > free:
            return "skipped: predicted peak RSS %.0f GB, %.0f GB available" % (predicted, free)
        return None


def train_configs(opts):
    """The default configuration first, then the sweep, each (T, H, batch) once."""
    base = dict(zip(("T", "H", "batch"), opts.sweep_base or opts.base))
    configs = [dict(zip(("T", "H", "batch"), opts.base))]
    if opts.sweep == "axes":
        for axis, values in SWEEP.items():
            configs += [dict(base, **{axis: v}) for v in values]
    if opts.sweep == "grid":
        configs += [dict(T=T, H=H, batch=b) for T in SWEEP["T"] for H in SWEEP["H"]
                    for b in SWEEP["batch"]]
    unique = []
    for c in configs:
        if c not in unique:
            unique.append(c)
    return unique


def run_training(opts, common, memory, log, runs, save):
    """Run the pre-training step of `configs` in increasing size (so the memory
    model learns from small ones); memoized in `runs` by (kind, T, H, batch)."""
    def run(kind, cfg):
        key = "%s T=%d H=%d batch=%d" % (kind, cfg["T"], cfg["H"], cfg["batch"])
        if key in runs:
            return runs[key]
        spec = dict(common, kind=kind, filters=opts.filters, **cfg)
        row = dict(kind=kind, filters=opts.filters, recompute=spec["recompute"], **cfg)
        skip = memory.too_big(kind, cfg)
        predicted = memory.predict(kind, cfg)
        if skip:
            row["status"] = skip
        else:
            print("  running %s ..." % key, file=sys.stderr, flush=True)
            out, row["status"] = run_worker(spec, log)
            if out:
                row.update(out)
                memory.add(kind, cfg, out["rss_gb"])
            elif row["status"] == "out of memory":
                memory.fail(kind, cfg)
        if "flops" not in row and not opts.quick:
            print("  counting FLOPs of %s ..." % key, file=sys.stderr, flush=True)
            out, _ = run_worker(dict(spec, kind="flops_only", phase=kind), log)
            row.update(out or {})
        if spec["recompute"] == "on" and not opts.quick:
            # The model's FLOPs: the same step without the recomputed forwards.
            print("  counting FLOPs of %s without recomputation ..." % key, file=sys.stderr,
                  flush=True)
            out, _ = run_worker(dict(spec, kind="flops_only", phase=kind, recompute="off"), log)
            row["model_flops"] = (out or {}).get("flops")
        if predicted is not None:
            row["predicted_rss_gb"] = predicted
        runs[key] = row
        save(runs)
        return row
    return run


def add_rates(row, peak):
    if row.get("seconds"):
        row["gflops"] = row["flops"] / row["seconds"] / 1e9 if "flops" in row else None
        row["utilization"] = row["gflops"] / peak if row.get("gflops") else None
        model_flops = row.get("model_flops") or (row.get("flops") if row.get("recompute") == "off"
                                                 else None)
        row["model_utilization"] = model_flops and model_flops / row["seconds"] / 1e9 / peak
        row["frames_per_s"] = row["batch"] * row["T"] / row["seconds"]
    return row


def main_driver(opts):
    started = time.time()
    if opts.quick:
        opts.filters, opts.base, opts.sweep = QUICK_FILTERS, [4, 32, 1], "none"
        opts.rl_shape, opts.gy_shape = [4, 32, 1], [2, 4, 32]
        opts.peak_repeats = min(opts.peak_repeats, 5)
    if opts.grappler is None:
        # Grappler's first-run optimization of each session call of the big
        # training graphs costs ~30 s at any size: too slow for --quick.
        opts.grappler = "off" if opts.quick else "on"
    if opts.recompute is None:
        opts.recompute = "off" if opts.quick else "on"
    log = opts.log or os.path.join(tempfile.gettempdir(), "rl_v2v_gan_benchmark.log")
    open(log, "w").close()
    common = dict(grappler=opts.grappler, recompute=opts.recompute, warmup=opts.warmup,
                  steps=opts.steps, mem_limit_gb=opts.mem_limit_gb)
    print("measuring peak ...", file=sys.stderr, flush=True)
    peak_start, status = run_worker(dict(common, kind="peak", repeats=opts.peak_repeats), log)
    if peak_start is None:
        raise SystemExit("peak measurement failed: %s (log: %s)" % (status, log))
    report = {"machine": machine(peak_start["tensorflow"]), "options": vars(opts),
              "targets": TARGETS}

    def save(runs):
        """Results so far, in case the run is cut short."""
        if opts.json:
            with open(opts.json + ".partial", "w") as f:
                json.dump(dict(report, runs=runs), f, indent=2, sort_keys=True)

    memory, runs = MemoryModel(opts.mem_limit_gb), {}
    run = run_training(opts, common, memory, log, runs, save)
    configs = train_configs(opts)
    for cfg in sorted(configs, key=size_of):
        run("pretrain", cfg)
    rl_cfg = dict(zip(("T", "H", "batch"), opts.rl_shape))
    rl_row, pre_row = run("rl", rl_cfg), run("pretrain", rl_cfg)

    gy = dict(kind="gy", filters=opts.filters, **dict(zip(("batch", "T", "H"), opts.gy_shape)))
    print("  running G_Y step ...", file=sys.stderr, flush=True)
    out, gy["status"] = run_worker(dict(common, **gy), log)
    gy.update(out or {})

    peak_end = None
    if not opts.quick:
        print("measuring peak again ...", file=sys.stderr, flush=True)
        peak_end, _ = run_worker(dict(common, kind="peak", repeats=opts.peak_repeats), log)
    peak = max(peak_start["peak_gflops"], (peak_end or peak_start)["peak_gflops"])
    report["peak"] = {"start": peak_start, "end": peak_end, "peak_gflops": peak}

    train_rows = [add_rates(runs["pretrain T=%d H=%d batch=%d" % (c["T"], c["H"], c["batch"])],
                            peak) for c in configs]
    add_rates(rl_row, peak)
    add_rates(pre_row, peak)
    if gy.get("seconds"):
        gy["gflops"] = gy["flops"] / gy["seconds"] / 1e9
        gy["convlstm_gflops"] = gy["conv_lstm_flops"] / gy["seconds"] / 1e9
        gy["utilization"] = gy["gflops"] / peak
        gy["frames_per_s"] = gy["batch"] * gy["T"] / gy["seconds"]
    report.update(training=train_rows, rl=rl_row, rl_pretrain=pre_row, gy=gy)
    report["targets_met"] = targets_met(train_rows[0], rl_row, pre_row, gy)
    report["wall_s"] = time.time() - started

    print(markdown(report, train_rows, rl_row, pre_row, gy))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        if os.path.exists(opts.json + ".partial"):
            os.remove(opts.json + ".partial")
    print("\n%d s in all; worker logs: %s" % (report["wall_s"], log), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny filters (8 16 32), T=4, 32x32: finishes in under 3 minutes")
    p.add_argument("--json", metavar="PATH", help="write every number to PATH")
    p.add_argument("--grappler", choices=("on", "off"),
                   help="TensorFlow's graph optimizer (default: on; off with --quick)")
    p.add_argument("--recompute", choices=("on", "off"),
                   help="main.py's --recompute for the training steps (default: on; off with "
                   "--quick, whose sizes need no saving); G_Y alone never recomputes")
    p.add_argument("--filters", type=int, nargs=3, default=DEFAULT_FILTERS)
    p.add_argument("--base", type=int, nargs=3, metavar=("T", "H", "BATCH"),
                   default=[DEFAULT["T"], DEFAULT["H"], DEFAULT["batch"]],
                   help="the default configuration (first row)")
    p.add_argument("--sweep", choices=("axes", "grid", "none"), default="axes",
                   help="axes: one of T, H, batch varied at a time around --sweep_base; "
                   "grid: all %d combinations" % (len(SWEEP["T"]) * len(SWEEP["H"]) *
                                                  len(SWEEP["batch"])))
    p.add_argument("--sweep_base", type=int, nargs=3, metavar=("T", "H", "BATCH"),
                   default=SWEEP_BASE, help="centre of --sweep axes (default %s: around the "
                   "default configuration most points need more than 24 GB)"
                   % " ".join(map(str, SWEEP_BASE)))
    p.add_argument("--rl_shape", type=int, nargs=3, metavar=("T", "H", "BATCH"),
                   default=[8, 32, 2], help="configuration of the RL vs pre-training comparison "
                   "(default 8 32 2, a point of the default sweep)")
    p.add_argument("--gy_shape", type=int, nargs=3, metavar=("BATCH", "T", "H"),
                   default=[4, 16, 64])
    p.add_argument("--warmup", type=int, default=1, help="untimed steps (>= 1)")
    p.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    p.add_argument("--peak_repeats", type=int, default=10)
    p.add_argument("--peak_only", action="store_true",
                   help="only measure the fp32 peak; print it as JSON (scripts/"
                   "reproduce_synthetic.sh records the machine's speed with it)")
    p.add_argument("--mem_limit_gb", type=float, default=None,
                   help="per-configuration memory cap: skip those predicted above it, "
                   "RLIMIT_DATA for the others (default: 90%% of RAM or the available "
                   "memory less 2 GB, whichever is smaller)")
    p.add_argument("--log", help="worker stderr (default: $TMPDIR/rl_v2v_gan_benchmark.log)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    opts = p.parse_args()
    if opts.worker:
        return worker(json.loads(opts.worker))
    if opts.mem_limit_gb is None:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
        opts.mem_limit_gb = min(0.9 * ram, (available_gb() or ram) - 2.0)
    opts.warmup = max(opts.warmup, 1)
    if opts.peak_only:
        log = opts.log or os.path.join(tempfile.gettempdir(), "rl_v2v_gan_benchmark.log")
        peak, status = run_worker(dict(kind="peak", repeats=opts.peak_repeats,
                                       mem_limit_gb=opts.mem_limit_gb), log)
        if peak is None:
            raise SystemExit("peak measurement failed: %s (log: %s)" % (status, log))
        print(json.dumps(peak, sort_keys=True))
        return
    main_driver(opts)


if __name__ == "__main__":
    main()
