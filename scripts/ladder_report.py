"""The scale ladder's table and curves from the committed runs (docs/runs/).

    python scripts/ladder_report.py [--runs docs/runs] [--figure docs/figures/scaling.png]

Prints a Markdown table, one row per run (`<rung>_seed<k>`, from
`scripts/scale_ladder.sh`): its clip size and filters (config.json), the
first held-out evaluation at background accuracy >= 0.95 and at both
targets (and PSNR >= 15 dB) with its wall-clock seconds, the first
evaluation from which both targets hold to the end of training, the end
values of the weight average (the model eval and export use) and of the
raw generator, the fp32 peak measured around the run (peak.jsonl), and the
commit it was trained at. Writes the curves (background accuracy and PSNR
against steps and seconds) to `--figure`.
"""
import argparse
import glob
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from plot_curves import TARGETS, plot, reached  # noqa: E402
from rl_v2v_gan.monitor import CSV_FILE, read_rows  # noqa: E402


def held_from(rows):
    """The first row from which every later row meets both targets (None if the last does not)."""
    start = None
    for row in rows:
        ok = all(row.get(k) is not None and row[k] >= v for k, v in TARGETS.items())
        start = (start or row) if ok else None
    return start


def peak(folder):
    """Median fp32 peak (GFLOP/s) of the measurements around a run, or None."""
    path = os.path.join(folder, "peak.jsonl")
    if not os.path.isfile(path):
        return None
    values = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                record = json.loads(line)
                values.append(record.get("peak_gflops", record.get("gflops")))
    values = [v for v in values if v]
    return statistics.median(values) if values else None


def at(row):
    return "—" if row is None else "%d (%.0f s)" % (row["step"], row["seconds"])


def table(runs_dir):
    lines = ["| run | T, H×W | filters | bg acc ≥ 0.95 first | both targets first | both held from | "
             "end: bg acc / PSNR (average) | end: raw | fp32 peak GFLOP/s | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    runs = []
    for folder in sorted(glob.glob(os.path.join(runs_dir, "*_seed*"))):
        rows = read_rows(os.path.join(folder, CSV_FILE))
        if not rows:
            continue
        with open(os.path.join(folder, "config.json")) as f:
            saved = json.load(f)
        commit_file = os.path.join(folder, "commit.txt")
        commit = open(commit_file).read().strip()[:7] if os.path.isfile(commit_file) else "—"
        T, H, W, _ = saved["input_shape"]
        last = rows[-1]
        raw = ("%.2f / %.2f" % (last["raw_background_accuracy"], last["raw_psnr"])
               if last.get("raw_psnr") is not None else "—")
        p = peak(folder)
        lines.append("| %s | %d, %d×%d | %s | %s | %s | %s | %.2f / %.2f (step %d) | %s | %s | %s |" % (
            os.path.basename(folder), T, H, W, "/".join(map(str, saved["filters"])),
            at(reached(rows, {"background_accuracy": 0.95})), at(reached(rows)),
            at(held_from(rows)), last["background_accuracy"], last["psnr"], last["step"], raw,
            "—" if p is None else "%.0f" % p, commit))
        runs.append((os.path.basename(folder), rows))
    return "\n".join(lines), runs


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default=os.path.join(ROOT, "docs", "runs"))
    p.add_argument("--figure", default=os.path.join(ROOT, "docs", "figures", "scaling.png"))
    opts = p.parse_args()
    text, runs = table(opts.runs)
    if not runs:
        sys.exit("error: %s holds no run with an %s" % (opts.runs, CSV_FILE))
    print(text)
    plot(runs, opts.figure, title="scale ladder: held-out curves of the default recipe")
    print("\nwrote %s" % opts.figure)


if __name__ == "__main__":
    main()
