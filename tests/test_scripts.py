"""scripts/: the ladder report's target rule and the teaser's layout."""
import importlib.util
import os

import numpy as np

from conftest import ROOT


def _script(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, "scripts", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(*values):
    return [{"step": 50 * (i + 1), "seconds": 10.0 * (i + 1), "background_accuracy": bg,
             "psnr": psnr} for i, (bg, psnr) in enumerate(values)]


def test_targets_count_from_the_evaluation_after_which_they_hold_to_the_end():
    report = _script("ladder_report")
    lost = _rows((0.9, 12.0), (1.0, 15.4), (0.92, 11.2), (1.0, 15.1), (1.0, 15.6))
    assert report.reached(lost)["step"] == 100          # first reached
    assert report.held_from(lost)["step"] == 200        # held from here to the end
    assert report.held_from(_rows((1.0, 15.4), (1.0, 14.9))) is None   # lost at the end
    assert report.held_from(_rows((1.0, 15.0), (0.96, 16.0)))["step"] == 50


def test_teaser_rows_are_source_translation_truth_scaled_up():
    teaser = _script("teaser").teaser
    source = np.zeros((2, 3, 8, 8, 3), np.uint8)
    truth = np.full((2, 3, 8, 8, 3), 200, np.uint8)
    frames = teaser(np.ones_like, source, truth, scale=2)    # translates to white
    sep = 2  # video_io.SEPARATOR
    assert frames.shape == (3, 2 * (2 * 8 + sep), 2 * (3 * 8 + 2 * sep), 3)
    row = frames[0, :16]                           # the first clip, scaled 2x
    assert (row[:, :16] == 0).all() and (row[:, 16 + 2 * sep:32 + 2 * sep] == 255).all()
    assert (row[:, -16:] == 200).all()
