import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import SAMPLE_VIDEOS, file_size_limit
from rl_v2v_gan import config, data
from rl_v2v_gan.data import folders, storage, synthetic
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.video_io import read_video

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = dict(x_frames=40, y_frames=16, z_frames=16, z_hat_images=10)  # at T = 4: 10, 4, 4 clips
SHAPE = (4, 32, 32, 3)
BLUE, RED = [0, 0, 255], [255, 0, 0]


def make_args(data_dir, dataset="synthetic", raw_dir=None, shape=SHAPE, seed=0):
    argv = ["--mode", "prepare_data", "--dataset", dataset, "--data_dir", str(data_dir),
            "--seed", str(seed), "--input_shape"] + [str(n) for n in shape]
    return config.parse_args(argv + (["--raw_dir", str(raw_dir)] if raw_dir else []))


def snapshot(folder):
    """{relative path: bytes} of every file under `folder`."""
    return {os.path.relpath(os.path.join(d, n), folder): open(os.path.join(d, n), "rb").read()
            for d, _, names in os.walk(folder) for n in names}


def sample(name):
    return os.path.join(SAMPLE_VIDEOS, name + "_1_sel12.mp4")


def background(frames):
    """The per-frame median colour [..., 3]: the background, which covers most pixels."""
    return np.median(frames.reshape(frames.shape[:-3] + (-1, 3)), axis=-2).astype(int)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    args = make_args(tmp_path_factory.mktemp("tiny"))
    return data.prepare(args, **TINY)


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    """X: the red-flower clip; Y: the yellow-flower clip; Z: the day-city clip as a folder
    of frames; Z_images: night-city frames as JPEGs, plus a grayscale and an RGBA PNG."""
    raw = tmp_path_factory.mktemp("raw")
    for d in ("X", "Y", "Z/city_day", "Z_images"):
        os.makedirs(str(raw / d))
    shutil.copy(sample("flower_red"), str(raw / "X"))
    shutil.copy(sample("flower_yellow"), str(raw / "Y"))
    for i, frame in enumerate(read_video(sample("city_day"))[0]):
        cv2.imwrite(str(raw / "Z" / "city_day" / ("%d.png" % i)), frame[..., ::-1])
    for i, frame in enumerate(read_video(sample("city_night"))[0][:4]):
        cv2.imwrite(str(raw / "Z_images" / ("night_%d.jpg" % i)), frame[..., ::-1])
    cv2.imwrite(str(raw / "Z_images" / "gray.png"), np.full((40, 60), 128, np.uint8))
    cv2.imwrite(str(raw / "Z_images" / "rgba.png"), np.full((60, 40, 4), 200, np.uint8))
    return raw


@pytest.fixture(scope="module")
def prepared_city(raw_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("city")
    data.prepare(make_args(data_dir, "city", raw_dir))
    return data_dir


# ----------------------------------------------------------------------------
# Synthetic data

def test_synthetic_shapes_and_counts(tiny):
    assert tiny.shape == SHAPE and tiny.has_ground_truth
    counts = {d: (len(tiny.clips(d, "train")), len(tiny.clips(d, "test")))
              for d in ("X", "X_gt", "Y", "Z")}
    assert counts == {"X": (8, 2), "X_gt": (8, 2), "Y": (4, 0), "Z": (4, 0)}
    assert tiny.images().shape == (10, 32, 32, 3) and tiny.images("test").shape == (0, 32, 32, 3)
    assert isinstance(tiny.clips("X"), np.memmap) and tiny.clips("X").dtype == np.uint8
    meta = tiny.meta
    assert (meta["dataset"], meta["seed"], meta["input_shape"]) == ("synthetic", 0, list(SHAPE))
    assert meta["counts"]["X_train"] == 8 and meta["arrays"]["Z_hat_train"] == [10, 32, 32, 3]
    assert meta["version"] == storage.FORMAT_VERSION and meta["synthetic"]["x_frames"] == 40


def test_synthetic_is_deterministic(tmp_path):
    first = snapshot(data.prepare(make_args(tmp_path / "a"), **TINY).root)
    again = snapshot(data.prepare(make_args(tmp_path / "b"), **TINY).root)
    other = snapshot(data.prepare(make_args(tmp_path / "c", seed=1), **TINY).root)
    assert first == again
    assert first["X_train.npy"] != other["X_train.npy"]


def test_default_sizes_are_the_papers():
    splits, _ = synthetic.generate((16, 8, 8, 3), seed=0)
    train, test = splits["train"], splits["test"]
    assert len(train["X"]) + len(test["X"]) == 37  # 600 frames cut into clips of 16
    assert len(test["X"]) == len(test["X_gt"]) == 6 and sorted(test) == ["X", "X_gt"]
    assert len(train["Y"]) == len(train["Z"]) == 6 and len(train["Z_hat"]) == 100


def test_backgrounds_follow_the_paper():
    """Y and the ground truth: blue for t < T/2, red after (odd T); X and Z on black."""
    T = 5
    splits, _ = synthetic.generate((T, 32, 32, 3), seed=3, **TINY)
    train, test = splits["train"], splits["test"]
    schedule = [BLUE] * 3 + [RED] * 2
    for clips in (train["X_gt"], test["X_gt"], train["Y"]):
        assert all(background(clip).tolist() == schedule for clip in clips)
    assert (background(train["X"]) == 0).all() and (background(train["Z"]) == 0).all()
    assert sorted(set(map(tuple, background(train["Z_hat"]).tolist()))) == \
        [tuple(BLUE), tuple(RED)]


def test_ground_truth_keeps_the_motion_and_colour():
    """A shape drawn as a rectangle (X) and as a circle (X_gt): same centre, same colour."""
    T, H, W = 8, 64, 64
    scene = synthetic.random_scene(np.random.RandomState(5), T, H, W)[:1]
    x = synthetic.render(scene, "rectangle", [synthetic.BLACK] * T, H, W)
    gt = synthetic.render(scene, "circle", synthetic.target_backgrounds(T), H, W)
    colour = np.array(scene[0].colour)
    for t in range(T):
        in_x = (x[t] == colour).all(-1)
        in_gt = (gt[t] == colour).all(-1)
        centre = lambda mask: np.argwhere(mask).mean(0)
        assert np.abs(centre(in_x) - centre(in_gt)).max() < 1.0
        assert np.abs(centre(in_x) - scene[0].centres[t]).max() < 1.0
        assert in_gt.sum() > in_x.sum() * 0.9  # the circle is drawn over the rectangle's place
    assert np.abs(scene[0].centres[-1] - scene[0].centres[0]).max() > 2  # it moves


def test_synthetic_too_long_T_is_user_error():
    with pytest.raises(UserError, match="T = 32 is longer than the synthetic Y"):
        synthetic.generate((32, 8, 8, 3), seed=0, **TINY)


# ----------------------------------------------------------------------------
# Video-folder datasets

def test_real_clips_round_trip(prepared_city):
    ds = data.ensure_dataset(make_args(prepared_city, "city"))
    assert ds.shape == SHAPE and not ds.has_ground_truth
    # 11 frames, T = 4, stride 4: two clips per video; X holds one out for testing.
    assert ds.clips("X").shape == ds.clips("X", "test").shape == (1, 4, 32, 32, 3)
    assert ds.clips("Y").shape == ds.clips("Z").shape == (2, 4, 32, 32, 3)
    assert ds.images().shape == (6, 32, 32, 3)
    red, green, blue = np.concatenate([ds.clips("X"), ds.clips("X", "test")]) \
        .reshape(-1, 3).mean(0)
    assert red > blue + 50  # RGB order: the red flower is red
    _, green, blue = ds.clips("Y").reshape(-1, 3).mean(0)
    assert green > blue  # the yellow flower
    sources = ds.meta["sources"]
    assert sources["X"] == ["X/flower_red_1_sel12.mp4"] and sources["Z"] == ["Z/city_day"]
    assert sources["Z_hat"][:2] == ["Z_images/gray.png", "Z_images/night_0.jpg"]
    with pytest.raises(ValueError, match="no paired ground truth"):
        ds.clips("X_gt")


def test_grayscale_and_rgba_images_become_rgb(prepared_city):
    images = data.ensure_dataset(make_args(prepared_city, "city")).images()
    gray, rgba = images[0], images[-1]  # gray.png first, rgba.png last in natural order
    assert (gray == 128).all()
    assert (rgba == round(200 * 200 / 255.0)).all()  # composited over black


def test_overlapping_clips_never_share_frames_across_splits(raw_dir, tmp_path):
    ds = data.prepare(make_args(tmp_path, "custom", raw_dir), stride=1)
    train, test = (ds.meta["clip_origins"][s] for s in ("train", "test"))
    assert ds.meta["stride"] == 1 and len(train["Y"]) == 8  # 11 - 4 + 1 clips
    (_, test_start), = test["X"]
    assert train["X"] and all(abs(start - test_start) >= 4 for _, start in train["X"])


def test_short_videos_are_skipped_with_a_warning(raw_dir, tmp_path, capfd):
    raw = tmp_path / "raw"
    shutil.copytree(str(raw_dir), str(raw))
    os.makedirs(str(raw / "X" / "short"))
    cv2.imwrite(str(raw / "X" / "short" / "0.png"), np.zeros((8, 8, 3), np.uint8))
    (raw / "X" / "README").write_text("not a video")
    ds = data.prepare(make_args(tmp_path / "data", "custom", raw))
    err = capfd.readouterr().err
    assert "short: skipped: 1 frames, fewer than T = 4" in err
    assert "skipped 1 entries that are not videos" in err and "README" in err
    assert ds.meta["sources"]["X"] == ["X/flower_red_1_sel12.mp4"]


def _remove(path):
    shutil.rmtree(path)


def _empty(path):
    shutil.rmtree(path)
    os.makedirs(path)


def _truncate(path):
    data_ = open(path, "rb").read()
    open(path, "wb").write(data_[:len(data_) // 2])


def _write_text(path):
    open(path, "w").write("hello")


# (what is broken in the raw folder, how, and what the one-line error says)
BAD_INPUTS = [
    ("no_flag", None, None, "--raw_dir is required"),
    ("missing_raw_dir", "nowhere", None, "--raw_dir .*nowhere: no such folder"),
    ("missing_domain", "Y", _remove, "has no Y/ folder"),
    ("empty_domain", "Z", _empty, "Z: no videos"),
    ("empty_images", "Z_images", _empty, "Z_images: no images"),
    ("not_a_video", "X/notes.mp4", _write_text, "notes.mp4: cannot open as a video"),
    ("truncated_video", "Y/flower_yellow_1_sel12.mp4", _truncate,
     "flower_yellow_1_sel12.mp4: (truncated|cannot open)"),
    ("unreadable_image", "Z_images/broken.png", _write_text, "broken.png: not a readable image"),
    ("unreadable_frame", "Z/city_day/3.png", _write_text, "3.png: not a readable image"),
]


@pytest.mark.parametrize("case, target, damage, message", BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_one_line_user_error_and_keeps_the_dataset(
        case, target, damage, message, raw_dir, prepared_city, tmp_path):
    data_dir, raw = tmp_path / "data", tmp_path / "raw"
    shutil.copytree(str(prepared_city), str(data_dir))
    shutil.copytree(str(raw_dir), str(raw))
    if damage:
        damage(str(raw / target))
    before = snapshot(str(data_dir))
    raw_flag = {"no_flag": None, "missing_raw_dir": raw / "nowhere"}.get(case, raw)
    with pytest.raises(UserError, match=message) as error:
        data.prepare(make_args(data_dir, "city", raw_flag))
    assert "\n" not in str(error.value)
    assert snapshot(str(data_dir)) == before and os.listdir(str(data_dir)) == ["city"]


def test_all_videos_too_short_is_user_error(raw_dir, tmp_path):
    with pytest.raises(UserError, match="X: none of its 1 videos has T = 12 frames"):
        data.prepare(make_args(tmp_path, "flower", raw_dir, shape=(12, 32, 32, 3)))


# ----------------------------------------------------------------------------
# Storage and ensure_dataset

def test_failed_write_keeps_the_previous_dataset(tiny, tmp_path):
    """A write that fails part-way (a real OSError: the file-size limit) leaves
    the previous dataset and no temporary folder; a complete run replaces it.
    (Interrupts take the same path: tests/test_files.py.)"""
    data_dir = tmp_path / "data"
    shutil.copytree(os.path.dirname(tiny.root), str(data_dir))
    before = snapshot(str(data_dir))
    with file_size_limit(1000), pytest.raises(UserError, match="cannot write the dataset"):
        data.prepare(make_args(data_dir, seed=7), **TINY)
    assert snapshot(str(data_dir)) == before and os.listdir(str(data_dir)) == ["synthetic"]
    data.prepare(make_args(data_dir, seed=7), **TINY)  # a complete run replaces it
    assert snapshot(str(data_dir)) != before and os.listdir(str(data_dir)) == ["synthetic"]


def test_refuses_to_replace_a_folder_that_is_not_a_dataset(tmp_path):
    os.makedirs(str(tmp_path / "synthetic"))
    (tmp_path / "synthetic" / "mine.txt").write_text("precious")
    with pytest.raises(UserError, match="synthetic exists and is not a prepared dataset"):
        data.prepare(make_args(tmp_path), **TINY)
    assert (tmp_path / "synthetic" / "mine.txt").read_text() == "precious"


def test_ensure_dataset_generates_missing_synthetic_data(tmp_path, capsys):
    args = make_args(tmp_path)
    ds = data.ensure_dataset(args, **TINY)
    assert "no synthetic dataset in" in capsys.readouterr().out and ds.shape == SHAPE
    assert data.ensure_dataset(args).meta == ds.meta
    assert capsys.readouterr().out == ""  # opened, not generated again


def test_ensure_dataset_missing_real_dataset_names_the_command(tmp_path):
    with pytest.raises(UserError, match="no prepared city dataset .* run `python main.py "
                                        "--mode prepare_data --dataset city --raw_dir DIR"):
        data.ensure_dataset(make_args(tmp_path, "city"))


def test_input_shape_mismatch_is_user_error(tiny):
    data_dir = os.path.dirname(tiny.root)
    before = snapshot(tiny.root)
    with pytest.raises(UserError) as error:
        data.ensure_dataset(make_args(data_dir, shape=(4, 64, 64, 3)))
    message = str(error.value)
    assert "--input_shape 4 64 64 3 does not match" in message
    assert "prepared at 4 32 32 3" in message
    assert "--mode prepare_data --dataset synthetic" in message and "--data_dir" in message
    assert snapshot(tiny.root) == before


def test_damaged_dataset_is_user_error(tiny, tmp_path):
    root = tmp_path / "synthetic"
    shutil.copytree(tiny.root, str(root))
    _truncate(str(root / "Y_train.npy"))
    with pytest.raises(UserError, match="Y_train.npy: unreadable"):
        data.Dataset(str(root))


# ----------------------------------------------------------------------------
# Input pipeline

def test_to_float_and_back():
    u8 = np.arange(256, dtype=np.uint8)
    f = data.to_float(u8)
    assert f.dtype == np.float32 and (f[0], f[-1]) == (-1.0, 1.0)
    assert (data.to_uint8(f) == u8).all()
    assert data.to_uint8(np.array([-3.0, 3.0])).tolist() == [0, 255]


def test_sampler_batches(tiny):
    sampler = data.Sampler(tiny, seed=0)
    clips = sampler.clips("Y", 3)
    assert clips.shape == (3, 4, 32, 32, 3) and clips.dtype == np.float32
    assert -1 <= clips.min() and clips.max() <= 1
    y = tiny.clips("Y")
    assert all(any((data.to_uint8(c) == real).all() for real in y) for c in clips)
    assert sampler.frames(5).shape == sampler.images(5).shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(sampler.clip_at("Z", 2), data.to_float(tiny.clips("Z")[2]))
    videos = sampler.videos()
    assert len(videos) == 8 + 4 + 4 and videos[0] == ("X", 0) and videos[-1] == ("Z", 3)


def test_sampler_is_seeded(tiny):
    a, b, c = (data.Sampler(tiny, seed=s) for s in (1, 1, 2))
    assert (a.clips("X", 4) == b.clips("X", 4)).all() and (a.frames(4) == b.frames(4)).all()
    assert not (a.clips("X", 4) == c.clips("X", 4)).all()


def test_sampler_frames_cover_all_domains(tiny):
    origin = {}
    for name, frames in (("X", tiny.clips("X")), ("Y", tiny.clips("Y")),
                         ("Z", tiny.clips("Z")), ("Z_hat", tiny.images()[:, None])):
        origin.update((f.tobytes(), name) for f in frames.reshape(-1, 32, 32, 3))
    drawn = data.to_uint8(data.Sampler(tiny, seed=0).frames(400))
    seen = [origin.get(f.tobytes()) for f in drawn]
    assert None not in seen and set(seen) == {"X", "Y", "Z", "Z_hat"}


def test_max_target_clips_keeps_only_the_first_clips_of_y_and_z(tiny):
    sampler = data.Sampler(tiny, seed=0, max_target_clips=1)
    for d in ("Y", "Z"):
        first = data.to_float(tiny.clips(d)[:1])
        assert (sampler.clips(d, 6) == first).all()
    assert len({c.tobytes() for c in sampler.clips("X", 16)}) > 1     # X unchanged
    assert [v for v in sampler.videos() if v[0] != "X"] == [("Y", 0), ("Z", 0)]
    frames = lambda u8: {f.tobytes() for f in data.to_float(u8).reshape(-1, 32, 32, 3)}
    allowed = (frames(tiny.clips("X")) | frames(tiny.clips("Y")[:1]) | frames(tiny.clips("Z")[:1])
               | frames(tiny.images()))
    assert {f.tobytes() for f in sampler.frames(400)} <= allowed     # Algorithm 1's random a
    with pytest.raises(UserError, match="--max_target_clips 5: .* has only 4 train clips of Y"):
        data.Sampler(tiny, max_target_clips=5)


def test_test_split_sampler(tiny):
    sampler = data.Sampler(tiny, seed=0, split="test")
    assert sampler.clips("X", 2).shape == (2, 4, 32, 32, 3)
    assert sampler.videos() == [("X", 0), ("X", 1)]
    with pytest.raises(UserError, match="the test split has no Y clips"):
        sampler.clips("Y", 1)


# ----------------------------------------------------------------------------
# Command line

def run_main(*flags):
    return subprocess.run([sys.executable, "main.py", "--mode", "prepare_data"] + list(flags),
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def test_cli_bad_input_exits_2_with_one_error_line(raw_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(str(raw_dir), str(raw))
    _write_text(str(raw / "X" / "notes.mp4"))
    result = run_main("--dataset", "custom", "--raw_dir", str(raw), "--data_dir",
                      str(tmp_path / "data"), "--input_shape", "4", "32", "32", "3")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "notes.mp4" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not os.path.exists(str(tmp_path / "data" / "custom"))


def test_cli_prepares_synthetic_data(tmp_path):
    result = run_main("--data_dir", str(tmp_path), "--input_shape", "4", "32", "32", "3")
    assert result.returncode == 0, result.stderr
    assert "prepared synthetic" in result.stdout
    assert data.Dataset(str(tmp_path / "synthetic")).clips("X").shape[1:] == SHAPE
