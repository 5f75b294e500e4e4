"""scripts/ladder_report.py: when a run reaches the targets, and whether it keeps them."""
import importlib.util
import os

from conftest import ROOT


def _report():
    spec = importlib.util.spec_from_file_location(
        "ladder_report", os.path.join(ROOT, "scripts", "ladder_report.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(*values):
    return [{"step": 50 * (i + 1), "seconds": 10.0 * (i + 1), "background_accuracy": bg,
             "psnr": psnr} for i, (bg, psnr) in enumerate(values)]


def test_targets_count_from_the_evaluation_after_which_they_hold_to_the_end():
    report = _report()
    lost = _rows((0.9, 12.0), (1.0, 15.4), (0.92, 11.2), (1.0, 15.1), (1.0, 15.6))
    assert report.reached(lost)["step"] == 100          # first reached
    assert report.held_from(lost)["step"] == 200        # held from here to the end
    assert report.held_from(_rows((1.0, 15.4), (1.0, 14.9))) is None   # lost at the end
    assert report.held_from(_rows((1.0, 15.0), (0.96, 16.0)))["step"] == 50
