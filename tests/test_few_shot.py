"""The shot-count curve: scripts/few_shot_report.py on fabricated run folders,
and scripts/few_shot.sh's checks of its settings (nothing trained)."""
import json
import os
import subprocess

import pytest

from conftest import ROOT
from test_scripts import _script

SCRIPT = os.path.join(ROOT, "scripts", "few_shot.sh")
COLUMNS = "step,seconds,psnr,ssim,background_accuracy,warping_error"


def _fabricate(folder, shots, seed, rl_epochs, k):
    """A run folder whose best held-out row (the middle one) is not its last;
    returns its last row's (background accuracy, PSNR) and its object RMS."""
    os.makedirs(os.path.join(folder, "eval"))
    rows = [(0.50, 9.0), (0.99 - 0.01 * k, 16.0 - 0.1 * k), (0.70 + 0.01 * k, 12.0 + 0.1 * k)]
    with open(os.path.join(folder, "eval.csv"), "w") as f:
        f.write(COLUMNS + "\n" + "".join("%d,%d,%s,0.5,%s,0.01\n" % (50 * i, 10 * i, psnr, bg)
                                         for i, (bg, psnr) in enumerate(rows, 1)))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"max_target_clips": shots, "seed": seed, "rl_epochs": rl_epochs,
                   "pretrain_epochs": 5, "preset": "cpu"}, f)
    with open(os.path.join(folder, "object_colours.json"), "w") as f:
        json.dump({"objects_rms": 40.0 + k, "clips": 40}, f)
    for step in (100, 150):    # the last strip by step, not by name
        with open(os.path.join(folder, "eval", "step_%d.png" % step), "wb") as f:
            f.write(b"strip %d of %s" % (step, folder.encode()))
    return rows[-1] + (40.0 + k,)


def test_report_tabulates_the_last_held_out_row_and_the_mean_over_seeds(tmp_path):
    out = tmp_path / "few_shot"
    expected, k = {}, 0
    for shots in (1, 4):
        for model, rl_epochs in (("RL-V2V-GAN", 1), ("no-RL", 0)):
            for seed in (0, 1):
                name = "%s_shots%d_seed%d" % ("rl_v2v_gan" if rl_epochs else "no_rl", shots, seed)
                expected[shots, model, seed] = _fabricate(str(out / name), shots, seed,
                                                          rl_epochs, k)
                k += 1
    (out / "settings.txt").write_text('SHOTS="1 4" SEEDS="0 1" PRESET=cpu\n')
    (out / "commits.txt").write_text("0123abc\n")
    output = tmp_path / "docs" / "few_shot.md"
    _script("few_shot_report").main([str(out), "--output", str(output)])

    text = output.read_text()
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].isdigit():
            table[int(cells[0]), cells[1], cells[2]] = cells[3:]
    assert len(table) == 12                    # 2 shots x 2 models x (2 seeds + mean)
    for (shots, model, seed), (bg, psnr, rms) in expected.items():
        assert table[shots, model, str(seed)] == ["150", "%.3f" % bg, "%.2f" % psnr,
                                                  "%.1f" % rms]
    for shots in (1, 4):
        for model in ("RL-V2V-GAN", "no-RL"):
            seeds = [expected[shots, model, s] for s in (0, 1)]
            means = [sum(v) / 2 for v in zip(*seeds)]
            assert table[shots, model, "**mean**"][1:] == [
                "**%.3f**" % means[0], "**%.2f**" % means[1], "**%.1f**" % means[2]]
    assert 'SHOTS="1 4" SEEDS="0 1" PRESET=cpu scripts/few_shot.sh' in text
    assert "`0123abc`" in text
    figures = tmp_path / "docs" / "figures"
    assert "](figures/few_shot.png)" in text and (figures / "few_shot.png").stat().st_size
    for shots in (1, 4):    # RL-V2V-GAN's first seed, its last strip
        strip = out / ("rl_v2v_gan_shots%d_seed0" % shots) / "eval" / "step_150.png"
        assert (figures / ("few_shot_shots%d.png" % shots)).read_bytes() == strip.read_bytes()


def _run_script(tmp_path, **settings):
    """few_shot.sh with these settings and a PYTHON that only records that it ran."""
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\necho "$@" >> "%s"\nexit 1\n' % (tmp_path / "ran"))
    python.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SHOTS", "SEEDS", "PRESET", "FLAGS", "JOBS", "REPORT")}
    env.update(PYTHON=str(python), OUT=str(tmp_path / "out"), **settings)
    return subprocess.run(["bash", SCRIPT], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


@pytest.mark.parametrize("name,value", [("SHOTS", "1 two 4"), ("SHOTS", "0 4"), ("SHOTS", "2 2"),
                                        ("SHOTS", " "), ("SEEDS", "0 -1"), ("SEEDS", "1.5")])
def test_script_refuses_a_bad_shot_count_or_seed_before_running_anything(tmp_path, name, value):
    result = _run_script(tmp_path, **{name: value})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: %s" % name), result.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "out").exists()


def test_script_resumes_only_an_out_it_made_with_the_same_settings(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("someone else's\n")
    result = _run_script(tmp_path, SHOTS="1 12", SEEDS="0")
    assert result.returncode == 2 and "not made by this script" in result.stderr
    (out / "settings.txt").write_text('SHOTS="1 2" SEEDS="0" PRESET=cpu\n')
    result = _run_script(tmp_path, SHOTS="1 12", SEEDS="0")
    assert result.returncode == 2 and "other settings" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "ran").exists()
    # The same settings (however spaced) pass on to main.py's own flag check.
    (out / "settings.txt").write_text('SHOTS="1 12" SEEDS="0" PRESET=cpu\n')
    result = _run_script(tmp_path, SHOTS=" 1  12 ", SEEDS="0")
    assert result.returncode == 2 and "--max_target_clips 12" in (tmp_path / "ran").read_text()
