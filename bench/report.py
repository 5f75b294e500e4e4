"""The Markdown report of bench/benchmark.py: tables, targets, the machine."""
import os
import platform

GB = float(1 << 30)
TARGETS = dict(utilization=0.40, rl_ratio=1.5, gy_conv_gflops=110.0)


def fmt(value, spec="%.1f", missing="—"):
    return missing if value is None else spec % value


def train_table(rows):
    lines = ["| T | H×W | batch | GFLOP/step | s/step | GFLOP/s | utilization | model GFLOP/step "
             "| model utilization | peak RSS GB | frames/s | other CPU | status |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    percent = lambda v: fmt(v and 100 * v, "%.0f%%")
    for r in rows:
        lines.append("| %d | %d×%d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["T"], r["H"], r["H"], r["batch"], fmt(r.get("flops") and r["flops"] / 1e9, "%.0f"),
            fmt(r.get("seconds"), "%.2f"), fmt(r.get("gflops")), percent(r.get("utilization")),
            fmt(r.get("model_flops") and r["model_flops"] / 1e9, "%.0f"),
            percent(r.get("model_utilization")), fmt(r.get("rss_gb")),
            fmt(r.get("frames_per_s"), "%.2f"), fmt(r.get("other_cpu"), "%.2f"), r["status"]))
    return "\n".join(lines)


def targets_met(default, rl, pre, gy):
    out = {}
    if default.get("utilization") is not None:
        out["utilization"] = default["utilization"] >= TARGETS["utilization"]
    if rl.get("seconds") and pre.get("seconds"):
        out["rl_ratio"] = rl["seconds"] / pre["seconds"] <= TARGETS["rl_ratio"]
    if gy.get("convlstm_gflops") is not None:
        out["gy_conv_gflops"] = gy["convlstm_gflops"] >= TARGETS["gy_conv_gflops"]
    return out


def machine(tf_version):
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    except (ValueError, OSError):
        ram = None
    return {"cpu": model, "cores": os.cpu_count(), "ram_gb": ram, "tensorflow": tf_version,
            "python": platform.python_version()}


def markdown(report, train_rows, rl, pre, gy):
    m, p = report["machine"], report["peak"]
    end = p["end"] or {}
    out = ["## Machine", "", "%s, %d cores, %.0f GB RAM, TensorFlow %s; Grappler %s; "
           "--recompute %s." % (m["cpu"], m["cores"], m["ram_gb"] or 0, m["tensorflow"],
                                report["options"]["grappler"], report["options"]["recompute"]),
        "", "Measured fp32 peak (best of %d): matmul 2048² %.1f GFLOP/s, conv 3×3 256→256 "
        "on [8, 64, 64] %.1f GFLOP/s at the start; %s / %s at the end. Peak used: %.1f GFLOP/s."
        % (report["options"]["peak_repeats"], p["start"]["matmul_gflops"],
           p["start"]["conv_gflops"], fmt(end.get("matmul_gflops")), fmt(end.get("conv_gflops")),
           p["peak_gflops"]),
        "Memory cap per configuration: %.1f GB." % report["options"]["mem_limit_gb"],
        "", "## Pre-training step (filters %s)" % " ".join(map(str, train_rows[0]["filters"])),
        "", "First row: the default configuration%s; then the sweep (%s around T, H, batch = %s)."
        " GFLOP/s and utilization count every FLOP of the step; the model's FLOPs leave out "
        "the forwards recomputed by --recompute on; other CPU: cores busy with "
        "other processes meanwhile." % (
            "" if not report["options"]["quick"] else " of --quick", report["options"]["sweep"],
            " ".join(map(str, report["options"]["sweep_base"] or report["options"]["base"]))),
        "", train_table(train_rows), "",
        "## Algorithm-1 iteration vs pre-training step (T=%d, %d×%d, batch %d)" % (
            rl["T"], rl["H"], rl["H"], rl["batch"]), ""]
    if rl.get("seconds") and pre.get("seconds"):
        out += ["| step | GFLOP | s (median) | GFLOP/s | collect / DDPG / D update s | peak RSS GB "
                "| ratio to pre-training |", "|---|---|---|---|---|---|---|",
                "| pre-training | %s | %.2f | %s | — | %.1f | 1.00 |" % (
                    fmt(pre.get("flops") and pre["flops"] / 1e9, "%.0f"), pre["seconds"],
                    fmt(pre.get("gflops")), pre["rss_gb"]),
                "| Algorithm-1 iteration (m new transitions) | %s | %.2f | %s | %.2f / %.2f / %.2f "
                "| %.1f | %.2f |" % (
                    fmt(rl.get("flops") and rl["flops"] / 1e9, "%.0f"), rl["seconds"],
                    fmt(rl.get("gflops")), rl["collect_s"], rl["ddpg_s"], rl["d_update_s"],
                    rl["rss_gb"], rl["seconds"] / pre["seconds"])]
    else:
        out.append("not measured: RL %s, pre-training %s" % (rl["status"], pre["status"]))
    out += ["", "## G_Y alone: one Adam step on mean((G_Y(x) - x)²), x [%d, %d, %d, %d, 3]"
            % (gy["batch"], gy["T"], gy["H"], gy["H"]), ""]
    if gy.get("seconds"):
        conv_time = sum(v for k, v in gy["traced_op_seconds"].items() if "Conv" in k)
        all_time = sum(gy["traced_op_seconds"].values())
        out += ["| GFLOP/step | ConvLSTM conv GFLOP/step | s/step | GFLOP/s | GFLOP/s "
                "(ConvLSTM convs) | utilization | peak RSS GB | frames/s |",
                "|---|---|---|---|---|---|---|---|",
                "| %.0f | %.0f | %.2f | %.1f | %.1f | %.0f%% | %.1f | %.2f |" % (
                    gy["flops"] / 1e9, gy["conv_lstm_flops"] / 1e9, gy["seconds"],
                    gy["gflops"], gy["convlstm_gflops"], 100 * gy["utilization"], gy["rss_gb"],
                    gy["frames_per_s"]), "",
                "Conv FLOPs (Conv2D and its gradients) %.1f GFLOP, of which forward Conv2D "
                "%.3f GFLOP. Convolution kernels took %.0f%% of the traced kernel time (top op "
                "types: %s)." % (
                    gy["conv_flops"] / 1e9, gy["flops_by_type"].get("Conv2D", 0) / 1e9,
                    100 * conv_time / max(all_time, 1e-9),
                    ", ".join("%s %.1f s" % kv for kv in list(gy["traced_op_seconds"].items())[:4]))]
    else:
        out.append("not measured: %s" % gy["status"])
    met = report["targets_met"]
    names = {"utilization": "default pre-training step utilization >= 40% of peak",
             "rl_ratio": "Algorithm-1 iteration <= 1.5x pre-training step",
             "gy_conv_gflops": "G_Y step >= 110 GFLOP/s (ConvLSTM convs)"}
    values = {"utilization": fmt(train_rows[0].get("utilization") and
                                 100 * train_rows[0]["utilization"], "%.0f%%"),
              "rl_ratio": fmt(rl.get("seconds") and pre.get("seconds") and
                              rl["seconds"] / pre["seconds"], "%.2fx"),
              "gy_conv_gflops": fmt(gy.get("convlstm_gflops"), "%.1f GFLOP/s")}
    out += ["", "## Targets", ""]
    for k in names:
        verdict = {True: "met", False: "NOT met"}.get(met.get(k), "not measured")
        out.append("- %s: %s (%s)" % (names[k], verdict, values[k]))
    measured = [r["utilization"] for r in train_rows if r.get("utilization")]
    if train_rows[0].get("utilization") is None and measured:
        out.append("  - the default configuration did not run (%s); the configurations that ran "
                   "reach %.0f%%-%.0f%%" % (train_rows[0]["status"], 100 * min(measured),
                                           100 * max(measured)))
    return "\n".join(out)
