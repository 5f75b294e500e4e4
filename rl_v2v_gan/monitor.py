"""Held-out quality during training (`--eval_every N`): time to quality.

Every N training steps the inference-mode `G_Y` of the training graph
(batch norm on its moving averages, exactly what eval and translate run)
translates the held-out clips of X, and the metrics of `metrics.py` that need
no extra model are computed on them: PSNR and SSIM against the paired ground
truth and the background-colour accuracy (synthetic data), and the warping
error. Each evaluation is one row of `<checkpoint_dir>/eval.csv`:

    step, seconds, psnr, ssim, background_accuracy, warping_error

and one image `<checkpoint_dir>/eval/step_<step>.png`: the first clips as
rows of frames, source / translated (/ ground truth) (`video_io.strip`).

`seconds` is the wall-clock time since the command started (imports and
graph building included); after a resume it continues from the last row
kept, and rows of steps beyond the restored checkpoint are dropped.
"""
import csv
import io
import os
import time

from . import data, metrics, video_io
from .files import atomic_write

CSV_FILE = "eval.csv"
STRIPS = "eval"    # folder of the per-evaluation sample images
STRIP_CLIPS = 2
MAX_CLIPS = 64     # held-out clips translated per evaluation (all of them at the usual sizes)
METRIC_KEYS = ("psnr", "ssim", "background_accuracy", "warping_error")
# The same metrics of the raw G_Y when the model is its average (`average.py`).
RAW_KEYS = ("raw_psnr", "raw_background_accuracy")
COLUMNS = ("step", "seconds") + METRIC_KEYS + RAW_KEYS


def read_rows(path):
    """The rows of an eval.csv as dicts of floats (step as int); [] if absent."""
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [dict({k: float(v) if v not in ("", "n/a", None) else None for k, v in row.items()},
                 step=int(float(row["step"]))) for row in rows]


class HeldOut(object):
    """The held-out clips of X and the CSV their metrics go to.

    `ds`: the prepared Dataset; `directory`: the checkpoint folder;
    `started`: `time.time()` when the command started; `step`: the training
    step training resumes from (rows after it are dropped).
    """

    def __init__(self, ds, directory, started, step=0, max_clips=MAX_CLIPS):
        self.source, self.truth, _, self.split = data.eval_clips(ds, max_clips)
        self.inputs = data.to_float(self.source)
        self.synthetic = ds.meta.get("dataset") == "synthetic"
        self.path = os.path.join(directory, CSV_FILE)
        self.strips = os.path.join(directory, STRIPS)
        self.rows = [r for r in read_rows(self.path) if r["step"] <= step]
        self.offset = self.rows[-1]["seconds"] if self.rows else 0.0
        self.started = started

    def _metrics(self, translate):
        translated = data.to_uint8(translate(self.inputs))
        values = metrics.evaluate_clips(self.source, translated, self.truth,
                                        synthetic=self.synthetic)
        return translated, {k: values.get(k) if isinstance(values.get(k), float) else None
                            for k in METRIC_KEYS}

    def __call__(self, translate, step, raw=None):
        """Translate the held-out clips with `translate` (float clips => float
        clips in [-1, 1]), append the metrics of `step` to the CSV, return them
        (`{key: float or None}`, None where a metric does not apply). `raw`:
        the raw generator's `translate` when `translate` is the average's
        (the `RAW_KEYS` columns)."""
        translated, row = self._metrics(translate)
        raw_values = self._metrics(raw)[1] if raw is not None else {}
        row.update({k: raw_values.get(k[4:]) for k in RAW_KEYS})
        row.update(step=step, seconds=self.offset + time.time() - self.started)
        self.rows.append(row)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.rows:
            writer.writerow([r["step"], "%.1f" % r["seconds"]] +
                            ["" if r.get(k) is None else "%.6g" % r[k]
                             for k in METRIC_KEYS + RAW_KEYS])
        atomic_write(self.path, out.getvalue())
        rows = [clip[k] for k in range(min(STRIP_CLIPS, len(self.source)))
                for clip in (self.source, translated, self.truth) if clip is not None]
        video_io.write_image(os.path.join(self.strips, "step_%06d.png" % step),
                             video_io.strip(*rows))
        return row
