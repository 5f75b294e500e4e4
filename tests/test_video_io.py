import os

import cv2
import numpy as np
import pytest

from conftest import SAMPLE_VIDEOS
from rl_v2v_gan import video_io
from rl_v2v_gan.errors import UserError

RED_FLOWER = os.path.join(SAMPLE_VIDEOS, "flower_red_1_sel12.mp4")


def moving_gradient(n=6, h=32, w=48):
    """Smooth frames (lossy codecs keep them well) that change over time."""
    t, y, x = np.meshgrid(np.arange(n) * 20.0, np.linspace(0, 128, h), np.linspace(0, 255, w),
                          indexing="ij")
    return np.stack([(x + t) % 256, y, 255 - x], -1).astype(np.uint8)


def fourcc(path):
    capture = cv2.VideoCapture(path)
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    capture.release()
    return code.to_bytes(4, "little").decode("latin-1").lower()


def imwrite(path, image):
    assert cv2.imwrite(str(path), image)
    return str(path)


def test_write_video_round_trip(tmp_path):
    frames = moving_gradient()
    path = str(tmp_path / "out" / "clip.mp4")  # the folder is created
    video_io.write_video(path, frames, fps=7)
    back, fps = video_io.read_video(path)
    assert back.shape == frames.shape and back.dtype == np.uint8
    assert fps == pytest.approx(7)
    assert np.abs(back.astype(int) - frames).mean() < 6
    assert os.listdir(tmp_path / "out") == ["clip.mp4"]  # no temporary file left
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return
    assert fourcc(path) in ("h264", "avc1")  # browser-playable


def test_write_video_with_opencvs_encoder(tmp_path):
    """encoder "mp4v": what "auto" uses when imageio-ffmpeg is not installed."""
    path = str(tmp_path / "clip.mp4")
    video_io.write_video(path, moving_gradient(), fps=7, encoder="mp4v")
    back, _ = video_io.read_video(path)
    assert fourcc(path) in ("mp4v", "fmp4") and back.shape == (6, 32, 48, 3)
    assert np.abs(back.astype(int) - moving_gradient()).mean() < 10


def test_write_video_keeps_odd_sizes(tmp_path):
    path = str(tmp_path / "odd.mp4")
    frames = moving_gradient(3, 33, 47)
    video_io.write_video(path, frames, fps=5)
    back = video_io.read_video(path)[0]
    assert back.shape == (3, 33, 47, 3)
    assert np.abs(back.astype(int) - frames).mean() < 8


def test_video_writer_streams_and_removes_its_temporary_file_on_failure(tmp_path):
    path = str(tmp_path / "clip.mp4")
    frames = moving_gradient(6)
    with video_io.video_writer(path, 5, frames.shape[1:3]) as write:
        write(frames[:4])
        assert not os.path.exists(path)           # only under a hidden name until the end
        write(frames[4:])
    assert video_io.read_video(path)[0].shape == frames.shape
    with pytest.raises(RuntimeError):
        with video_io.video_writer(path, 5, frames.shape[1:3]) as write:
            write(frames[:2])
            raise RuntimeError("stopped")
    assert os.listdir(str(tmp_path)) == ["clip.mp4"]
    assert video_io.read_video(path)[0].shape == frames.shape   # the old video is intact


def test_reader_streams_windows(tmp_path):
    path = str(tmp_path / "clip.mp4")
    video_io.write_video(path, moving_gradient(7), fps=5)
    with video_io.VideoReader(path) as reader:
        assert reader.count == 7 and reader.fps == pytest.approx(5)
        assert [len(w) for w in reader.windows(3)] == [3, 3, 1]


def test_write_video_rejects_bad_frames_and_keeps_old_file(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old")
    for bad in (np.zeros((2, 8, 8, 3), np.float32), np.zeros((8, 8, 3), np.uint8),
                np.zeros((0, 8, 8, 3), np.uint8)):
        with pytest.raises(ValueError):
            video_io.write_video(str(path), bad, fps=5)
    assert path.read_bytes() == b"old"


def test_atomic_path_unwritable_folder_is_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(UserError, match="cannot write"):
        video_io.write_video(str(blocker / "clip.mp4"), moving_gradient(2), fps=5)


def test_write_gif(tmp_path):
    from PIL import Image
    path = str(tmp_path / "clip.gif")
    video_io.write_gif(path, moving_gradient(5), fps=10)
    image = Image.open(path)
    assert (image.n_frames, image.size) == (5, (48, 32))
    assert image.info["duration"] == 100 and image.info["loop"] == 0


def test_read_frame_folder_in_natural_order(tmp_path):
    for i in (1, 2, 10):  # "10" sorts before "2" as text
        imwrite(tmp_path / ("frame_%d.png" % i), np.full((8, 8, 3), i * 20, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    frames, fps = video_io.read_video(str(tmp_path))
    assert frames.shape == (3, 8, 8, 3) and fps == video_io.FOLDER_FPS
    assert frames[:, 0, 0, 0].tolist() == [20, 40, 200]


def test_read_frame_folder_with_mixed_sizes(tmp_path):
    imwrite(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    imwrite(tmp_path / "b.png", np.zeros((16, 8, 3), np.uint8))
    with pytest.raises(UserError, match="b.png: frame size 16x8"):
        video_io.read_video(str(tmp_path))
    assert video_io.read_video(str(tmp_path), size=(4, 4))[0].shape == (2, 4, 4, 3)


def test_read_image_converts_to_rgb(tmp_path):
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[..., 2] = 255  # red, in OpenCV's BGR order
    assert video_io.read_image(imwrite(tmp_path / "red.png", bgr))[0, 0].tolist() == [255, 0, 0]
    gray = video_io.read_image(imwrite(tmp_path / "gray.png", np.full((4, 4), 77, np.uint8)))
    assert gray.shape == (4, 4, 3) and (gray == 77).all()
    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 1] = 200            # green
    bgra[:2, ..., 3] = 255        # top half opaque, bottom half transparent
    rgba = video_io.read_image(imwrite(tmp_path / "rgba.png", bgra))
    assert rgba[0, 0].tolist() == [0, 200, 0] and rgba[3, 0].tolist() == [0, 0, 0]
    deep = video_io.read_image(imwrite(tmp_path / "deep.png", np.full((4, 4, 3), 40000,
                                                                       np.uint16)))
    assert deep.dtype == np.uint8 and (deep == 40000 >> 8).all()


def test_resize_with_crop_keeps_the_middle_and_without_stretches():
    wide = np.zeros((40, 120, 3), np.uint8)
    wide[:, 40:80] = 255  # only the middle third is white
    out = video_io.resize(wide, 16, 16, crop=True)
    assert out.shape == (16, 16, 3) and out.min() == 255
    tall = np.transpose(wide, (1, 0, 2))
    stack = video_io.resize(np.stack([tall, tall]), 8, 8, crop=True)
    assert stack.shape == (2, 8, 8, 3) and stack.min() == 255
    small = np.full((4, 6, 3), 9, np.uint8)
    assert video_io.resize(small, 16, 16, crop=True).shape == (16, 16, 3)  # upscaled
    assert video_io.resize(small, 4, 6, crop=True) is small
    stretched = video_io.resize(wide, 16, 16)          # every column kept, squeezed
    assert stretched.shape == (16, 16, 3)
    assert stretched[:, 0].max() == 0 and stretched[:, 8].min() == 255 and stretched[:, -1].max() == 0


def test_read_sample_video_is_rgb():
    frames, fps = video_io.read_video(RED_FLOWER)
    assert frames.shape == (11, 256, 256, 3) and fps == pytest.approx(5)
    red, _, blue = frames.reshape(-1, 3).mean(0)
    assert red > blue + 50
    small, _ = video_io.read_video(RED_FLOWER, size=(32, 48))
    assert small.shape == (11, 32, 48, 3)


def test_unreadable_inputs_are_user_errors(tmp_path):
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "bad.png").write_text("not an image")
    (tmp_path / "empty").mkdir()
    cases = {"missing.mp4": "no such video", "text.mp4": "cannot open as a video",
             "empty": "no frame images"}
    for name, message in cases.items():
        path = str(tmp_path / name)
        with pytest.raises(UserError, match=message) as error:
            video_io.read_video(path)
        assert path in str(error.value)
    for name, message in {"bad.png": "not a readable image", "nope.png": "no such image"}.items():
        with pytest.raises(UserError, match=message):
            video_io.read_image(str(tmp_path / name))


def test_truncated_video_is_user_error(tmp_path):
    whole = str(tmp_path / "whole.mp4")
    video_io.write_video(whole, moving_gradient(20), fps=5)
    data = open(whole, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(UserError, match="cut.mp4: (truncated|cannot open)"):
        video_io.read_video(str(cut))


def test_corrupt_video_is_user_error(tmp_path):
    data = bytearray(open(RED_FLOWER, "rb").read())
    data[20000:40000] = bytes(20000)  # zero the middle of the frame data
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"corrupt.mp4: truncated or corrupt video: decoded \d+ "
                                        r"of its 11 frames"):
        video_io.read_video(str(path))


def test_a_full_disk_while_encoding_keeps_the_previous_video(tmp_path):
    """RLIMIT_FSIZE (a real EFBIG for the encoder process): one UserError, no
    temporary file left, and the earlier video at the path byte for byte."""
    import hashlib
    from conftest import file_size_limit
    path = str(tmp_path / "out.mp4")
    video_io.write_video(path, moving_gradient(), 8)
    before = hashlib.sha256(open(path, "rb").read()).hexdigest()
    noise = np.random.RandomState(0).randint(0, 256, (40, 256, 256, 3)).astype(np.uint8)
    with file_size_limit(60000), pytest.raises(UserError, match="writing .*out.mp4 failed"):
        video_io.write_video(path, noise, 8)
    assert os.listdir(str(tmp_path)) == ["out.mp4"]
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == before
