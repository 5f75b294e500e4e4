"""The released inference bundle `checkpoints/synthetic/` (made by
`RELEASE=1 scripts/reproduce_synthetic.sh`): its contents and size, and one
synthetic clip through `python main.py --mode translate`.

The bundle is part of the release: these tests fail, never skip, when it is
missing. They run at the bundle's own clip size.
"""
import os

import cv2
import numpy as np
import pytest

import main
from conftest import ROOT
from rl_v2v_gan import config, evaluation, video_io
from rl_v2v_gan.data import synthetic
from rl_v2v_gan.tf_compat import tf

BUNDLE = os.path.join(ROOT, "checkpoints", "synthetic")
MAX_BUNDLE_BYTES = 10 * 1000 * 1000  # 10 MB


def bundle_dir():
    """The bundle folder; fails the calling test when there is no bundle."""
    if not os.path.isfile(os.path.join(BUNDLE, "checkpoint")):
        pytest.fail("no inference bundle in %s (no `checkpoint` index file): make it with "
                    "`RELEASE=1 scripts/reproduce_synthetic.sh` and commit it" % BUNDLE,
                    pytrace=False)
    return BUNDLE


def write_clip(bundle, folder):
    """One synthetic X clip (rectangles on black) at the bundle's T x H x W, written to
    `folder` as PNG frames (lossless). Returns the uint8 RGB frames."""
    T, H, W, _ = config.load_config(bundle)["input_shape"]
    scene = synthetic.random_scene(np.random.RandomState(0), T, H, W)
    frames = synthetic.render(scene, "rectangle", [synthetic.BLACK] * T, H, W)
    os.makedirs(folder)
    for t, frame in enumerate(frames):
        assert cv2.imwrite(os.path.join(folder, "%03d.png" % t), frame[:, :, ::-1])  # RGB => BGR
    return frames


def translate(bundle, clip_folder, output):
    """`python main.py --mode translate` in this process => the decoded output frames."""
    status = main.main(["--mode", "translate", "--checkpoint_dir", bundle, "--grappler", "off",
                        "--input", clip_folder, "--output", output])
    assert status == 0, "--mode translate failed: see the captured stderr"
    assert os.path.isfile(output)
    return video_io.read_video(output)[0]


def test_bundle_is_small_and_holds_config_and_generators_only():
    bundle = bundle_dir()
    names = os.listdir(bundle)
    assert config.CONFIG_FILE in names
    size = sum(os.path.getsize(os.path.join(bundle, n)) for n in names)
    assert size <= MAX_BUNDLE_BYTES, "bundle is %d bytes, more than 10 MB" % size
    stored = {name.split("/")[0] for name, _ in tf.train.list_variables(bundle)}
    assert stored == set(evaluation.GENERATORS)


def test_translates_a_synthetic_clip_deterministically(tmp_path):
    bundle = bundle_dir()
    folder = str(tmp_path / "clip")
    clip = write_clip(bundle, folder)
    translated = translate(bundle, folder, str(tmp_path / "out.mp4"))
    assert translated.shape == clip.shape and translated.dtype == np.uint8
    assert translated.std() > 1.0, "the translation is a constant image"
    again = translate(bundle, folder, str(tmp_path / "again.mp4"))
    np.testing.assert_array_equal(again, translated)
