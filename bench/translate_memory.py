"""Peak memory and time of `--mode translate` versus the video's length.

    python bench/translate_memory.py [--frames 300 3000] [--size 640 360]
                                     [--checkpoint_dir checkpoints/synthetic]

Writes a synthetic test video of each length (a moving colour pattern,
streamed to disk), translates it with `python main.py --mode translate`
under `/usr/bin/time -v`, and prints a Markdown table of peak RSS and wall
time. Streaming translate keeps memory independent of the length.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rl_v2v_gan import video_io  # noqa: E402


def test_video(path, frames, width, height, fps=25.0, chunk=50):
    """A moving colour pattern, written `chunk` frames at a time."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    with video_io.video_writer(path, fps, (height, width)) as write:
        for start in range(0, frames, chunk):
            t = np.arange(start, min(start + chunk, frames), dtype=np.float32)[:, None, None]
            r = 127.5 + 127.5 * np.sin((x + 4 * t) / 40.0)
            g = 127.5 + 127.5 * np.sin((y + 3 * t) / 30.0)
            b = 127.5 + 127.5 * np.sin((x + y - 2 * t) / 50.0)
            write(np.stack([r, g, b], -1).astype(np.uint8))


def peak_rss(command):
    """(peak RSS in MB, wall seconds) of a command run under /usr/bin/time -v."""
    started = time.time()
    done = subprocess.run(["/usr/bin/time", "-v"] + command, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if done.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(command), done.stderr[-2000:]))
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return kb / 1024.0, time.time() - started


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, nargs="+", default=[300, 3000])
    p.add_argument("--size", type=int, nargs=2, default=[640, 360], metavar=("W", "H"))
    p.add_argument("--checkpoint_dir", default=os.path.join(ROOT, "checkpoints", "synthetic"))
    p.add_argument("--state", default="carry", choices=("carry", "reset"))
    args = p.parse_args()
    W, H = args.size
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.frames:
            source, out = os.path.join(tmp, "in_%d.mp4" % n), os.path.join(tmp, "out_%d.mp4" % n)
            test_video(source, n, W, H)
            mb, seconds = peak_rss([sys.executable, "main.py", "--mode", "translate",
                                    "--checkpoint_dir", args.checkpoint_dir, "--input", source,
                                    "--output", out, "--state", args.state])
            rows.append((n, mb, seconds))
            print("%d frames: peak RSS %.0f MB, %.1f s" % (n, mb, seconds), flush=True)
    print("\n| frames (%dx%d) | peak RSS (MB) | wall time (s) |\n|---|---|---|" % (W, H))
    for n, mb, seconds in rows:
        print("| %d | %.0f | %.1f |" % (n, mb, seconds))
    print("\npeak RSS of %d frames / %d frames: %.3f"
          % (rows[-1][0], rows[0][0], rows[-1][1] / rows[0][1]))


if __name__ == "__main__":
    main()
