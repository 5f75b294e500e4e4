"""--mode eval, translate and export on a tiny random checkpoint (evaluation.py).

The checkpoint is built without the training graph: G_X, G_Y (and a
stand-in of another network, as a training checkpoint has) initialized at
random and saved the way training saves (`<name>-<step>`, `checkpoint` index,
config.json). Eval runs on a small synthetic dataset at the same shape.
"""
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import ROOT, SAMPLE_VIDEOS, TINY_FILTERS
from rl_v2v_gan import config, evaluation, video_io
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.networks import build_networks
from rl_v2v_gan.tf_compat import tf

SHAPE = (4, 32, 32, 3)
CITY_DAY = os.path.join(SAMPLE_VIDEOS, "city_day_1_sel12.mp4")
ARCH = ["--input_shape"] + [str(n) for n in SHAPE] + ["--filters"] + [str(f) for f in TINY_FILTERS]


def flags(*extra):
    return config.parse_args(["--grappler", "off", "--batch_size", "2"] + list(extra))


def save_checkpoint(directory, filters=TINY_FILTERS, step=3, write_config=True):
    """Random G_X, G_Y, P_X saved as `<directory>/rl_v2v_gan-<step>` (+ config.json)."""
    with tf.Graph().as_default():
        nets = build_networks(filters, symbols=("G_X", "G_Y", "P_X"))
        clip = tf.zeros((1,) + SHAPE)
        for net in (nets.G_X, nets.G_Y, nets.P_X):
            net(clip, is_training=True)
        tf.train.get_or_create_global_step()
        # Batch-norm statistics away from their initial values, so a restore shows.
        moving = tf.get_collection(tf.GraphKeys.MOVING_AVERAGE_VARIABLES)
        assign = [tf.assign(v, tf.fill(tf.shape(v), 0.5)) for v in moving]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(assign)
            path = tf.train.Saver().save(sess, os.path.join(str(directory), "rl_v2v_gan"),
                                         global_step=step, write_meta_graph=False)
    if write_config:
        config.save_config(config.parse_args(["--mode", "train"] + ARCH[:5] + [
            "--filters"] + [str(f) for f in filters]), str(directory))
    return path


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("checkpoints")
    save_checkpoint(directory)
    return str(directory)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("data"))


def write_stand_in_inception(path):
    """A tiny frozen graph with Inception's tensor names: ExpandDims:0 => pool_3:0 [N, 4]."""
    with tf.Graph().as_default() as g:
        images = tf.placeholder(tf.float32, [None, 16, 16, 3], name="ExpandDims")
        kernel = np.random.RandomState(1).normal(size=(3, 3, 3, 4)).astype(np.float32)
        h = tf.nn.relu(tf.nn.conv2d(images / 255.0, tf.constant(kernel), [1, 2, 2, 1], "SAME"))
        tf.reduce_mean(h, axis=[1, 2], name="pool_3")
    with open(path, "wb") as f:
        f.write(g.as_graph_def().SerializeToString())
    return str(path)


def run_main(*argv):
    """`python main.py ARGV` => (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py")] + list(argv),
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def frame_count(path):
    capture = cv2.VideoCapture(path)
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


# --- helpers ------------------------------------------------------------------

def test_side_by_side():
    a, b = np.zeros((2, 8, 6, 3), np.uint8), np.full((2, 8, 6, 3), 255, np.uint8)
    out = video_io.side_by_side(a, b, a)
    assert out.shape == (2, 8, 3 * 6 + 2 * video_io.SEPARATOR, 3)
    assert (out[:, :, 6 + video_io.SEPARATOR:12 + video_io.SEPARATOR] == 255).all()


# --- eval ---------------------------------------------------------------------

def test_eval_writes_metrics_and_samples(checkpoint_dir, data_dir, tmp_path):
    samples = str(tmp_path / "samples")
    inception = write_stand_in_inception(str(tmp_path / "inception.pb"))
    results = evaluation.evaluate(flags("--mode", "eval", "--checkpoint_dir", checkpoint_dir,
                                        "--data_dir", data_dir, "--eval_batches", "2",
                                        "--samples_dir", samples, "--inception_path", inception))
    with open(os.path.join(checkpoint_dir, evaluation.METRICS_FILE)) as f:
        report = json.load(f)
    assert report["split"] == "test" and report["clips"] == 4 and report["step"] == 3
    assert report["checkpoint"] == os.path.join(checkpoint_dir, "rl_v2v_gan-3")
    for key in ("fid", "psnr", "ssim", "background_accuracy", "warping_error", "flicker"):
        assert isinstance(report["metrics"][key], float), key
        assert report["metrics"][key] == pytest.approx(results[key])
    assert 0.0 <= report["metrics"]["background_accuracy"] <= 1.0
    names = sorted(os.listdir(samples))
    assert names == sorted("rl_v2v_gan-3_x2y_%d.%s" % (k, e) for k in range(3)
                           for e in ("gif", "mp4", "png"))
    frames, _ = video_io.read_video(os.path.join(samples, "rl_v2v_gan-3_x2y_0.mp4"))
    width = 3 * SHAPE[2] + 2 * video_io.SEPARATOR   # source | translated | ground truth
    assert frames.shape == (SHAPE[0], SHAPE[1], width, 3)
    assert frame_count(os.path.join(samples, "rl_v2v_gan-3_x2y_0.mp4")) == SHAPE[0]
    from PIL import Image
    gif = Image.open(os.path.join(samples, "rl_v2v_gan-3_x2y_0.gif"))
    assert gif.n_frames == SHAPE[0] and gif.size == (width, SHAPE[1])
    strip = cv2.imread(os.path.join(samples, "rl_v2v_gan-3_x2y_0.png"))[:, :, ::-1]
    sep = video_io.SEPARATOR   # rows source / translated / ground truth, time across
    assert strip.shape == (3 * SHAPE[1] + 2 * sep, SHAPE[0] * (SHAPE[2] + sep) - sep, 3)


def test_strip_puts_videos_in_rows_and_time_across():
    T, H, W, sep = 3, 4, 5, video_io.SEPARATOR
    a, b = (np.random.RandomState(k).randint(0, 256, (T, H, W, 3)).astype(np.uint8)
            for k in (0, 1))
    image = video_io.strip(a, b)
    assert image.shape == (2 * H + sep, T * W + (T - 1) * sep, 3)
    for t in range(T):
        left = t * (W + sep)
        np.testing.assert_array_equal(image[:H, left:left + W], a[t])
        np.testing.assert_array_equal(image[H + sep:, left:left + W], b[t])
    assert (image[H:H + sep] == 128).all() and (image[:, W:W + sep] == 128).all()


def test_eval_without_inception_reports_fid_as_not_applicable(checkpoint_dir, data_dir,
                                                              tmp_path, capsys):
    results = evaluation.evaluate(flags(
        "--mode", "eval", "--checkpoint", os.path.join(checkpoint_dir, "rl_v2v_gan-3"),
        "--data_dir", data_dir, "--eval_batches", "1", "--samples_dir", str(tmp_path),
        "--inception_path", "none"))
    assert results["fid"] == "n/a" and isinstance(results["psnr"], float)
    out = capsys.readouterr().out
    assert "note: FID is n/a" in out and "| FID | n/a |" in out
    with open(os.path.join(checkpoint_dir, evaluation.METRICS_FILE)) as f:
        report = json.load(f)
    assert report["metrics"]["fid"] == "n/a" and "none" in report["fid_note"]


def test_eval_with_a_missing_inception_path_is_an_error(checkpoint_dir, data_dir, tmp_path):
    with pytest.raises(UserError, match="missing.pb"):
        evaluation.evaluate(flags(
            "--mode", "eval", "--checkpoint_dir", checkpoint_dir, "--data_dir", data_dir,
            "--eval_batches", "1", "--samples_dir", str(tmp_path),
            "--inception_path", str(tmp_path / "missing.pb")))


def test_eval_with_a_disagreeing_flag_fails_clearly(checkpoint_dir, data_dir):
    with pytest.raises(UserError, match="--filters .*disagrees with .*config.json"):
        evaluation.evaluate(flags("--mode", "eval", "--checkpoint_dir", checkpoint_dir,
                                  "--data_dir", data_dir, "--filters", "4", "8", "16"))


def test_eval_of_another_architecture_names_the_variables(tmp_path, data_dir):
    save_checkpoint(tmp_path, filters=(4, 8, 16))
    config.save_config(config.parse_args(["--mode", "train"] + ARCH), str(tmp_path))  # a lie
    with pytest.raises(UserError, match=r"does not match this model.*G_[XY]/RPB_3/.*checkpoint "
                                        r"\[.*16\], model \[.*8\]"):
        evaluation.evaluate(flags("--mode", "eval", "--checkpoint_dir", str(tmp_path),
                                  "--data_dir", data_dir))


def test_checkpoint_without_config_uses_the_flags(tmp_path, capsys):
    save_checkpoint(tmp_path, write_config=False)
    with evaluation.load_generators(flags("--mode", "eval", "--checkpoint_dir", str(tmp_path),
                                          *ARCH)) as generators:
        assert generators.shape == list(SHAPE)
    assert "note: no config.json" in capsys.readouterr().out


def test_missing_checkpoints_fail_clearly(tmp_path):
    with pytest.raises(UserError, match="holds no checkpoint"):
        evaluation.load_generators(flags("--mode", "eval", "--checkpoint_dir", str(tmp_path)))
    with pytest.raises(UserError, match="no such folder"):
        evaluation.load_generators(flags("--mode", "eval",
                                         "--checkpoint_dir", str(tmp_path / "none")))
    with pytest.raises(UserError, match="no such checkpoint"):
        evaluation.load_generators(flags("--mode", "eval",
                                         "--checkpoint", str(tmp_path / "model-1")))


# --- translate ----------------------------------------------------------------

@pytest.mark.parametrize("direction", ["x2y", "y2x"])
def test_translate_keeps_length_resolution_and_fps(checkpoint_dir, tmp_path, direction):
    out = str(tmp_path / "out" / "city.mp4")
    evaluation.translate(flags("--mode", "translate", "--checkpoint_dir", checkpoint_dir,
                               "--input", CITY_DAY, "--output", out, "--direction", direction))
    frames, fps = video_io.read_video(out)
    _, source_fps = video_io.read_video(CITY_DAY)
    assert frames.shape == (11, 256, 256, 3) and fps == pytest.approx(source_fps)
    assert os.listdir(str(tmp_path / "out")) == ["city.mp4"]  # no temporary file left


def test_translate_directions_use_their_generator(checkpoint_dir, tmp_path):
    """x2y is G_Y, y2x is G_X; padding the last window leaves earlier frames alone."""
    frames = np.random.RandomState(0).randint(0, 256, (6, 20, 28, 3)).astype(np.uint8)
    with evaluation.load_generators(flags("--mode", "translate",
                                          "--checkpoint_dir", checkpoint_dir)) as g:
        x2y = evaluation.translate_frames(g, frames, "x2y")
        y2x = evaluation.translate_frames(g, frames, "y2x")
        assert x2y.shape == frames.shape and y2x.shape == frames.shape
        assert np.abs(x2y.astype(int) - y2x).max() > 0
        longer = np.concatenate([frames, frames[:1]])          # 7 frames: windows 4 + 3
        np.testing.assert_array_equal(evaluation.translate_frames(g, longer, "x2y")[:4],
                                      x2y[:4])


def test_carried_state_equals_one_causal_pass(checkpoint_dir):
    """Window after window with the ConvLSTM states carried == one call on the
    whole clip (G_Y restored at T = 12 from the T = 4 checkpoint); `reset`
    differs from it after the first window."""
    clip = np.random.RandomState(2).uniform(-1, 1, (12,) + SHAPE[1:]).astype(np.float32)
    with evaluation.load_generators(flags("--mode", "translate",
                                          "--checkpoint_dir", checkpoint_dir)) as g:
        path = g.path
        stream = g.stream("x2y")
        windowed = np.concatenate([stream(clip[i:i + 4]) for i in range(0, 12, 4)])
        reset = np.concatenate([g(clip[None, i:i + 4])[0] for i in range(0, 12, 4)])
    with tf.Graph().as_default():
        G_Y = build_networks(TINY_FILTERS, symbols=("G_Y",)).G_Y
        whole = G_Y(tf.constant(clip[None]), is_training=False)[0]
        with tf.Session() as sess:
            tf.train.Saver(G_Y.variables()).restore(sess, path)
            whole = sess.run(whole)
    np.testing.assert_allclose(windowed, whole, atol=1e-5)
    np.testing.assert_allclose(reset[:4], whole[:4], atol=1e-5)
    assert np.abs(reset[4:] - whole[4:]).max() > 1e-3


def test_translate_state_flag(checkpoint_dir):
    """--state reset restarts every window from zeros; carry continues the first."""
    frames = np.random.RandomState(3).randint(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    with evaluation.load_generators(flags("--mode", "translate",
                                          "--checkpoint_dir", checkpoint_dir)) as g:
        carry = evaluation.translate_frames(g, frames, state="carry")
        reset = evaluation.translate_frames(g, frames, state="reset")
        second = evaluation.translate_frames(g, frames[4:], state="carry")
    np.testing.assert_array_equal(carry[:4], reset[:4])
    np.testing.assert_array_equal(reset[4:], second)
    assert np.abs(carry[4:].astype(int) - reset[4:]).max() > 0


def test_frame_model_translates_every_frame_on_its_own(tmp_path):
    """--model frame: the same generator on clips of length 1, so reordering the
    frames of a clip reorders its output frames."""
    save_checkpoint(tmp_path, write_config=False)
    config.save_config(config.parse_args(["--mode", "train", "--model", "frame",
                                          "--rl_epochs", "0"] + ARCH), str(tmp_path))
    clip = np.random.RandomState(1).uniform(-1, 1, (1,) + SHAPE).astype(np.float32)
    order = [2, 0, 3, 1]
    with evaluation.load_generators(flags("--mode", "eval",
                                          "--checkpoint_dir", str(tmp_path))) as g:
        out = g(clip, "x2y")
        np.testing.assert_allclose(g(clip[:, order], "x2y"), out[:, order], atol=1e-5)


@pytest.mark.parametrize("case", ["missing file", "text file named .mp4", "empty frame folder",
                                  "missing --output", "missing --input", "unwritable output"])
def test_translate_bad_inputs_fail_with_one_error_line(checkpoint_dir, tmp_path, case):
    (tmp_path / "notes.mp4").write_text("not a video\n" * 10)
    (tmp_path / "frames").mkdir()
    (tmp_path / "a_file").write_text("x")
    out = str(tmp_path / "out" / "result.mp4")
    given = {"missing file": ["--input", str(tmp_path / "none.mp4"), "--output", out],
             "text file named .mp4": ["--input", str(tmp_path / "notes.mp4"), "--output", out],
             "empty frame folder": ["--input", str(tmp_path / "frames"), "--output", out],
             "missing --output": ["--input", CITY_DAY],
             "missing --input": ["--output", out],
             "unwritable output": ["--input", CITY_DAY,
                                   "--output", str(tmp_path / "a_file" / "result.mp4")]}[case]
    status, _, stderr = run_main("--mode", "translate", "--checkpoint_dir", checkpoint_dir,
                                 *given)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert status != 0 and len(errors) == 1, stderr
    assert "Traceback" not in stderr
    assert sorted(os.listdir(str(tmp_path))) == ["a_file", "frames", "notes.mp4"]  # no output
    assert not os.listdir(str(tmp_path / "frames"))


def test_translate_checks_the_checkpoint_before_decoding(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.mp4").write_text("not a video\n")
    status, _, stderr = run_main("--mode", "translate", "--checkpoint_dir",
                                 str(tmp_path / "empty"), "--input", str(tmp_path / "notes.mp4"),
                                 "--output", str(tmp_path / "out.mp4"))
    assert status == 2 and "holds no checkpoint" in stderr and "notes.mp4" not in stderr


def test_sigterm_during_translate_leaves_no_file(checkpoint_dir, tmp_path):
    source, out = str(tmp_path / "long.mp4"), tmp_path / "out"
    frames = np.random.RandomState(4).randint(0, 256, (50, 64, 64, 3)).astype(np.uint8)
    with video_io.video_writer(source, 25, (64, 64)) as write:
        for _ in range(40):                                     # 2000 frames
            write(frames)
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "main.py"), "--mode", "translate", "--checkpoint_dir",
         checkpoint_dir, "--input", source, "--output", str(out / "long.mp4")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    deadline = time.time() + 120
    while not (out.is_dir() and os.listdir(str(out))) and process.poll() is None:
        assert time.time() < deadline, "translate never started writing"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    assert os.listdir(str(out)) == []                           # the partial video is gone


# --- export -------------------------------------------------------------------

def test_export_bundle_is_smaller_and_accepted_by_eval_and_translate(checkpoint_dir, data_dir,
                                                                     tmp_path):
    bundle = str(tmp_path / "bundle")
    prefix = evaluation.export(flags("--mode", "export", "--checkpoint_dir", checkpoint_dir,
                                     "--export_dir", bundle))
    assert sorted(os.listdir(bundle)) == sorted([
        "checkpoint", "config.json", "rl_v2v_gan-3.index",
        "rl_v2v_gan-3.data-00000-of-00001"])
    assert tf.train.latest_checkpoint(bundle) == prefix
    names = {n for n, _ in tf.train.list_variables(prefix)}
    assert names and all(n.split("/")[0] in ("G_X", "G_Y") for n in names)
    assert any(n.endswith("moving_mean") for n in names)
    source = os.path.join(checkpoint_dir, "rl_v2v_gan-3")
    assert not any(n.startswith("P_X/") for n, _ in tf.train.list_variables(prefix))
    for name in ("G_Y/out_proj/kernel", "G_X/RPB_1/bn/moving_mean"):
        np.testing.assert_array_equal(tf.train.load_checkpoint(prefix).get_tensor(name),
                                      tf.train.load_checkpoint(source).get_tensor(name))
    size = sum(os.path.getsize(os.path.join(bundle, f)) for f in os.listdir(bundle)
               if f.startswith("rl_v2v_gan-3."))
    assert size < sum(os.path.getsize(p) for p in evaluation.checkpoint_files(source))
    with open(os.path.join(bundle, "config.json")) as f:
        saved = json.load(f)
    assert saved["filters"] == list(TINY_FILTERS) and saved["exported_from"] == "rl_v2v_gan-3"
    assert not {"checkpoint_dir", "data_dir", "samples_dir", "eval_every", "mode"} & set(saved)

    moved = str(tmp_path / "moved")                 # relative paths: the folder can move
    os.rename(bundle, moved)
    results = evaluation.evaluate(flags("--mode", "eval", "--checkpoint_dir", moved,
                                        "--data_dir", data_dir, "--eval_batches", "1",
                                        "--samples_dir", str(tmp_path / "samples"),
                                        "--inception_path", "none"))
    assert isinstance(results["psnr"], float)
    frames = np.random.RandomState(0).randint(0, 256, (5, 32, 32, 3)).astype(np.uint8)
    with evaluation.load_generators(flags("--mode", "translate", "--checkpoint_dir",
                                          moved)) as from_bundle, \
            evaluation.load_generators(flags("--mode", "translate", "--checkpoint_dir",
                                             checkpoint_dir)) as from_checkpoint:
        np.testing.assert_array_equal(evaluation.translate_frames(from_bundle, frames),
                                      evaluation.translate_frames(from_checkpoint, frames))

    with pytest.raises(UserError, match="not empty"):
        evaluation.export(flags("--mode", "export", "--checkpoint_dir", checkpoint_dir,
                                "--export_dir", moved))
    with pytest.raises(UserError, match="needs --export_dir"):
        evaluation.export(flags("--mode", "export", "--checkpoint_dir", checkpoint_dir))


# --- the command line ---------------------------------------------------------

def test_eval_through_the_command_line(checkpoint_dir, data_dir, tmp_path):
    status, stdout, stderr = run_main(
        "--mode", "eval", "--checkpoint_dir", checkpoint_dir, "--data_dir", data_dir,
        "--eval_batches", "1", "--batch_size", "2", "--grappler", "off",
        "--samples_dir", str(tmp_path / "samples"), "--inception_path", "none")
    assert status == 0, stderr
    assert "| PSNR (dB) |" in stdout and "| background accuracy |" in stdout
    assert os.path.join(checkpoint_dir, "metrics.json") in stdout
    assert os.path.isfile(str(tmp_path / "samples" / "rl_v2v_gan-3_x2y_0.mp4"))


def test_translate_never_writes_over_its_input_through_a_link(checkpoint_dir, tmp_path):
    """--input a symlink to c1.mp4, --output c1.mp4: refused, c1.mp4 unchanged;
    an --output that exists and is not a video is refused too."""
    import hashlib
    c1 = tmp_path / "c1.mp4"
    c1.write_bytes(open(CITY_DAY, "rb").read())
    link = tmp_path / "in_link.mp4"
    link.symlink_to(c1)
    digest = hashlib.sha256(c1.read_bytes()).hexdigest()
    status, _, stderr = run_main("--mode", "translate", "--checkpoint_dir", checkpoint_dir,
                                 "--input", str(link), "--output", str(c1))
    assert status == 2 and "is the input" in stderr and "Traceback" not in stderr
    assert hashlib.sha256(c1.read_bytes()).hexdigest() == digest
    notes = tmp_path / "notes.mp4"
    notes.write_text("my notes\n")
    with pytest.raises(UserError, match="exists and is not a video"):
        evaluation._check_output(str(notes), str(link))
    evaluation._check_output(str(tmp_path / "new.mp4"), str(link))     # a new file is fine
    evaluation._check_output(str(c1), CITY_DAY)                         # a video is replaced
