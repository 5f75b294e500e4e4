"""Fault injection: the failures users hit, each through the real command line.

    python scripts/fault_check.py [--keep DIR] [CASE ...]

Every case runs `main.py` in a scratch folder holding files a user would care
about (a released model, a tiny trained run, earlier outputs, source videos),
with a real fault: a file-size limit (RLIMIT_FSIZE, as on a full disk),
symlinks, truncated or missing checkpoint files, bad flags, config.json of
the wrong type. Per case it prints the exit status, the `error:` line, and
whether every file that was there before kept its sha256 with nothing new
left behind. A case passes when the status and the one error line are the
expected ones and no file changed; the script exits 1 if any case fails
(CI runs it: .ci/run). docs/reliability.md lists what each case checks.
"""
import argparse
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "checkpoints", "synthetic")
CLIP = os.path.join(ROOT, "samples", "city_day_1_sel12.mp4")
# The tiny run: 2 epochs of 2 steps (one of pre-training, one of Algorithm 1).
DATA = ["--dataset", "synthetic", "--data_dir", "data"]
FAST = ["--input_shape", "4", "32", "32", "3", "--batch_size", "2", "--grappler", "off",
        "--recompute", "off", "--eval_every", "0", "--steps_per_epoch", "2"]
TINY = DATA + FAST + ["--filters", "4", "8", "8", "--epochs", "2"]
FULL_DISK = 64 * 1024        # bytes: RLIMIT_FSIZE of the full-disk cases


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _setup(work):
    """The scratch folder's files: the release, a tiny trained run, videos."""
    shutil.copytree(RELEASE, os.path.join(work, "model"))
    shutil.copy(CLIP, os.path.join(work, "c1.mp4"))
    shutil.copy(CLIP, os.path.join(work, "previous.mp4"))     # an earlier good output
    os.symlink("c1.mp4", os.path.join(work, "in_link.mp4"))
    os.symlink("loop_b.mp4", os.path.join(work, "loop_a.mp4"))
    os.symlink("loop_a.mp4", os.path.join(work, "loop_b.mp4"))
    os.symlink("gone.mp4", os.path.join(work, "dangling.mp4"))
    with open(os.path.join(work, "notes.mp4"), "w") as f:
        f.write("my notes, not a video\n")
    with open(os.path.join(work, "a_file"), "w") as f:
        f.write("a regular file\n")
    status, _, stderr = _main(work, ["--mode", "train", "--checkpoint_dir", "run"] + TINY)
    if status:
        raise SystemExit("fault_check: setting up the tiny run failed:\n" + stderr)
    for name in ("truncated", "missing_data", "wrong_config", "no_config"):
        shutil.copytree(os.path.join(work, "run"), os.path.join(work, name))
    data = "rl_v2v_gan-4.data-00000-of-00001"
    _truncate(os.path.join(work, "truncated", data))
    os.remove(os.path.join(work, "missing_data", data))
    with open(os.path.join(work, "wrong_config", "config.json"), "w") as f:
        f.write("[8, 16, 32]")
    os.remove(os.path.join(work, "no_config", "config.json"))


# name => (flags, expected exit status, the error line (regex; None: no error
# line), RLIMIT_FSIZE or None). Every case also requires that no file present
# before changed and that nothing new is left.
MODEL = ["--checkpoint_dir", "model"]
CASES = {
    # 1. a full disk while translating: the earlier output is kept
    "full disk, translate": (["--mode", "translate"] + MODEL + [
        "--input", "c1.mp4", "--output", "previous.mp4"], 2,
        r"writing previous\.mp4 failed: the encoded video is incomplete", FULL_DISK),
    # 2. the input through a symlink, an existing file that is not a video
    "output is the input via a link": (["--mode", "translate"] + MODEL + [
        "--input", "in_link.mp4", "--output", "c1.mp4"], 2, r"--output c1\.mp4 is the input",
        None),
    "output is not a video": (["--mode", "translate"] + MODEL + [
        "--input", "c1.mp4", "--output", "notes.mp4"], 2, r"notes\.mp4 exists and is not a video",
        None),
    # 3. damaged checkpoints on resume, config.json of the wrong type, int ranges
    "resume, truncated checkpoint": (["--mode", "train", "--checkpoint_dir", "truncated"] +
                                     TINY + ["--epochs", "3"], 2,
                                     r"cannot read checkpoint .*\(truncated or corrupt\?\)", None),
    "resume, missing .data file": (["--mode", "train", "--checkpoint_dir", "missing_data"] +
                                   TINY + ["--epochs", "3"], 2,
                                   r"cannot read checkpoint .*\.data-00000-of-00001 is missing",
                                   None),
    "config.json of the wrong type": (["--mode", "eval", "--checkpoint_dir", "wrong_config"], 2,
                                      r"wrong_config/config\.json: not the flags of a run", None),
    "integer out of range": (["--mode", "train", "--checkpoint_dir", "new",
                              "--max_to_keep", str(10 ** 11)], 2,
                             r"--max_to_keep must be below 2\^31", None),
    "replay buffer larger than memory": (["--mode", "train", "--checkpoint_dir", "new",
                                          "--buffer_size", "2000000000"], 2,
                                         r"--buffer_size 2000000000: the replay buffer", None),
    # 4. no config.json beside a checkpoint: a no-op train writes none
    "no-op train of another architecture": (["--mode", "train", "--checkpoint_dir", "no_config"] +
                                            TINY + ["--filters", "8", "8", "8"], 0, None, None),
    # 5. floats: NaN, negative
    "NaN learning rate": (["--mode", "train", "--checkpoint_dir", "new",
                           "--learning_rate", "nan"], 2,
                          r"--learning_rate must be a finite number, got nan", None),
    "negative lambda": (["--mode", "train", "--checkpoint_dir", "new", "--lambda_v", "-1"], 2,
                        r"--lambda_v must be >= 0", None),
    # 7. messages that say what happened
    "export under a file": (["--mode", "export"] + MODEL + ["--export_dir", "a_file/bundle"], 2,
                            r"--export_dir a_file/bundle: .*a_file is a file, not a folder",
                            None),
    "export to a file": (["--mode", "export"] + MODEL + ["--export_dir", "a_file"], 2,
                         r"--export_dir a_file: is a file, not a folder", None),
    "input is a symlink loop": (["--mode", "translate"] + MODEL + [
        "--input", "loop_a.mp4", "--output", "out.mp4"], 2, r"loop_a\.mp4: .*a symlink loop",
        None),
    "input is a broken symlink": (["--mode", "translate"] + MODEL + [
        "--input", "dangling.mp4", "--output", "out.mp4"], 2,
        r"dangling\.mp4: .*a broken symlink to gone\.mp4", None),
    "full disk, checkpoint save": (["--mode", "train", "--checkpoint_dir", "new"] + TINY, 2,
                                   r"cannot save checkpoint new/rl_v2v_gan-2: File too large",
                                   FULL_DISK),
    "eval racing checkpoint rotation": (["--mode", "eval", "--checkpoint_dir", "missing_data"] +
                                        DATA, 2, r"\.data-00000-of-00001 is missing "
                                        r"\(deleted, or removed by a training run's checkpoint "
                                        r"rotation\?\)", None),
    # 8. the destination checked before the work
    "eval, samples folder under a file": (["--mode", "eval"] + MODEL + [
        "--samples_dir", "a_file/samples"], 2, r"--samples_dir a_file/samples: .*a_file is a "
        r"file, not a folder", None),
}


def _main(work, argv, file_limit=None):
    """`python main.py ARGV` in `work` => (exit status, stdout, stderr)."""
    def limit():
        if file_limit:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE,
                               (file_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py")] + argv, cwd=work,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, preexec_fn=limit, timeout=600)
    return done.returncode, done.stdout, done.stderr


def snapshot(work):
    """{relative path: sha256 (files) or link target (symlinks)} of everything in `work`."""
    seen = {}
    for folder, dirs, files in os.walk(work):
        for name in dirs + files:
            path = os.path.join(folder, name)
            key = os.path.relpath(path, work)
            if os.path.islink(path):
                seen[key] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    seen[key] = hashlib.sha256(f.read()).hexdigest()
            else:
                seen[key] = "folder"
    return seen


def run_case(work, name):
    """Run case `name` in `work` => (passed, status, error line, files report)."""
    argv, status_expected, pattern, file_limit = CASES[name]
    before = snapshot(work)
    status, _, stderr = _main(work, argv, file_limit)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    after = snapshot(work)
    changed = sorted(k for k in before if after.get(k) != before[k])
    new = sorted(k for k in after if k not in before)
    error_ok = (not errors and "Traceback" not in stderr) if pattern is None else (
        len(errors) == 1 and re.search(pattern, errors[0]) is not None
        and "Traceback" not in stderr)
    files = "all %d kept" % len(before) if not changed and not new else "changed: %s" % ", ".join(
        changed + ["new " + k for k in new])
    passed = status == status_expected and error_ok and not changed and not new
    return passed, status, errors[0] if errors else "(none)", files


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cases", nargs="*", help="case names (default: all)")
    p.add_argument("--keep", help="work in this (new) folder and keep it")
    args = p.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        print("error: unknown case %s; cases: %s" % (", ".join(unknown), "; ".join(CASES)),
              file=sys.stderr)
        return 2
    work = args.keep or tempfile.mkdtemp(prefix="fault_check.")
    os.makedirs(work, exist_ok=bool(args.keep is None))
    try:
        _setup(work)
        failed = 0
        for name in args.cases or CASES:
            passed, status, error, files = run_case(work, name)
            failed += not passed
            print("%-4s %-38s exit %-3d %s | files: %s" % ("ok" if passed else "FAIL", name,
                                                         status, error, files), flush=True)
        print("%d of %d cases passed" % (len(args.cases or CASES) - failed,
                                         len(args.cases or CASES)))
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
