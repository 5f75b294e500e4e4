"""The released inference bundle `checkpoints/synthetic/`: its contents and
size, one synthetic clip through `python main.py --mode translate`, and the
background colours it paints on clips this test draws itself.

The bundle is part of the release: these tests fail, never skip, when it is
missing. They run at the bundle's own clip size.
"""
import os

import cv2
import numpy as np
import pytest

import main
from conftest import ROOT
from rl_v2v_gan import config, evaluation, metrics, video_io
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


def moving_rectangles(rng, T, H, W):
    """One clip `[T, H, W, 3]` uint8 drawn here, independent of the dataset
    code: 1-3 rectangles of random colours and sizes moving in straight
    lines on black (clipped at the border)."""
    clip = np.zeros((T, H, W, 3), np.uint8)
    for _ in range(rng.randint(1, 4)):
        h, w = rng.randint(3, H // 4 + 1), rng.randint(3, W // 4 + 1)
        y, x = rng.uniform(0, H - h), rng.uniform(0, W - w)
        dy, dx = rng.uniform(-1.5, 1.5, 2)
        colour = rng.randint(64, 256, 3)
        for t in range(T):
            top = int(np.clip(round(y + dy * t), 0, H - h))
            left = int(np.clip(round(x + dx * t), 0, W - w))
            clip[t, top:top + h, left:left + w] = colour
    return clip


def test_new_clips_get_the_target_background_schedule(tmp_path):
    """Five new clips of moving rectangles, one after another in a frame folder,
    translated x2y with --state reset (each window of T frames from zero
    states, as the model was trained on T-frame clips): the background is
    blue in the first half of each clip and red in the second in >= 95 % of
    the frames (the paper's Fig. 1 test)."""
    bundle = bundle_dir()
    T, H, W, _ = config.load_config(bundle)["input_shape"]
    rng = np.random.RandomState(12)
    clips = np.stack([moving_rectangles(rng, T, H, W) for _ in range(5)])
    folder = str(tmp_path / "clips")
    os.makedirs(folder)
    for k, frame in enumerate(clips.reshape((-1, H, W, 3))):
        assert cv2.imwrite(os.path.join(folder, "%03d.png" % k), frame[:, :, ::-1])
    output = str(tmp_path / "out.mp4")
    status = main.main(["--mode", "translate", "--checkpoint_dir", bundle, "--grappler", "off",
                        "--state", "reset", "--input", folder, "--output", output])
    assert status == 0
    translated = video_io.read_video(output)[0].reshape(clips.shape)
    accuracy = metrics.background_accuracy(translated).mean
    assert accuracy >= 0.95, "right background in %.0f %% of the frames" % (100 * accuracy)
