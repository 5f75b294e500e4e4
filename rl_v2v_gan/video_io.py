"""Reading and writing videos, frame folders and images, always as RGB uint8.

Reading decodes with OpenCV (its bundled FFmpeg): `read_video` takes a video
file or a folder of frame images, `read_image` one image. Grayscale, RGBA
(composited over black) and 16-bit inputs come out as 8-bit RGB. Every
failure caused by the input is a `UserError` naming the path.

Writing is atomic (a temporary name beside the target, renamed at the end):
`write_video` makes an H.264 MP4 that browsers play, through the ffmpeg binary
of `imageio-ffmpeg` when it is installed, else OpenCV's MPEG-4 Part 2 (`mp4v`,
plays in VLC but not in browsers); `write_gif` uses Pillow.
"""
import contextlib
import os
import re
import tempfile

# Silence FFmpeg's own log lines (e.g. "moov atom not found"): decoding
# failures are reported as one UserError instead. Read at the first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from .errors import UserError  # noqa: E402
from .files import atomic_write  # noqa: E402

try:  # optional: the ffmpeg binary that writes browser-playable H.264
    import imageio_ffmpeg
except ImportError:
    imageio_ffmpeg = None

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
FOLDER_FPS = 25.0  # frame rate reported for a folder of frames (it has none)


def natural_key(name):
    """Sort key that orders "frame_2" before "frame_10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def has_extension(name, extensions):
    return os.path.splitext(name)[1].lower() in extensions


def image_files(folder):
    """The image files directly in `folder`, in natural order."""
    names = [n for n in os.listdir(folder) if not n.startswith(".")
             and has_extension(n, IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, n))]
    return [os.path.join(folder, n) for n in sorted(names, key=natural_key)]


# ----------------------------------------------------------------------------
# Reading

def _to_rgb(image, path):
    """A decoded OpenCV image (gray, BGR or BGRA; 8 or 16 bit) => [H, W, 3] uint8 RGB."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise UserError("%s: unsupported pixel type %s (use 8- or 16-bit images)"
                        % (path, image.dtype))
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:  # composite over black
        alpha = image[:, :, 3:].astype(np.float32) / 255.0
        image = np.rint(image[:, :, :3] * alpha).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path, size=None):
    """One image => [H, W, 3] uint8 RGB, resized and centre-cropped to `size` = (H, W) if given."""
    if not os.path.isfile(path):
        raise UserError("%s: no such image file" % path)
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserError("%s: not a readable image (corrupt, or not an image)" % path)
    return _fit(_to_rgb(image, path), size)


def _fit(frame, size):
    return frame if size is None else resize_center_crop(frame, *size)


def _read_frame_folder(folder, size):
    paths = image_files(folder)
    if not paths:
        raise UserError("%s: folder has no frame images (%s)"
                        % (folder, " ".join(IMAGE_EXTENSIONS)))
    frames = [read_image(p, size) for p in paths]
    for path, frame in zip(paths, frames):
        if frame.shape != frames[0].shape:
            raise UserError("%s: frame size %dx%d differs from the first frame's %dx%d"
                            % ((path,) + frame.shape[:2] + frames[0].shape[:2]))
    return np.stack(frames), FOLDER_FPS


@contextlib.contextmanager
def _opencv_quiet():
    """Mute OpenCV's own warnings ("can't be used to capture by name"): failures become
    UserErrors. Old OpenCV without `cv2.utils.logging` stays as it is."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(level)


def _read_video_file(path, size):
    with _opencv_quiet():
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise UserError("%s: cannot open as a video (not a video file, or truncated/corrupt)"
                            % path)
        fps = capture.get(cv2.CAP_PROP_FPS)
        expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(_fit(_to_rgb(frame, path), size))
    finally:
        capture.release()
    if expected > 0 and len(frames) < expected:
        raise UserError("%s: truncated or corrupt video: decoded %d of its %d frames"
                        % (path, len(frames), expected))
    if not frames:
        raise UserError("%s: no frame could be decoded (corrupt video?)" % path)
    return np.stack(frames), (fps if fps > 0 else FOLDER_FPS)


def read_video(path, size=None):
    """A video file or a folder of frame images => (frames [N, H, W, 3] uint8 RGB, fps).

    With `size` = (H, W) each frame is resized and centre-cropped while
    decoding, so a long high-resolution video never sits in memory whole.
    Frames of a folder are taken in natural name order at FOLDER_FPS.
    """
    if os.path.isdir(path):
        return _read_frame_folder(path, size)
    if not os.path.isfile(path):
        raise UserError("%s: no such video file or frame folder" % path)
    return _read_video_file(path, size)


def resize_center_crop(frames, H, W):
    """Scale [..., h, w, 3] frames to cover H x W (aspect kept), then crop the centre.

    Takes one frame [h, w, 3] or a stack [N, h, w, 3]; returns the same rank.
    """
    frames = np.asarray(frames)
    if frames.ndim == 4:
        out = np.empty((len(frames), H, W, frames.shape[-1]), frames.dtype)
        for i, frame in enumerate(frames):
            out[i] = resize_center_crop(frame, H, W)
        return out
    h, w = frames.shape[:2]
    if (h, w) == (H, W):
        return frames
    scale = max(H / h, W / w)
    new_h, new_w = max(H, int(round(h * scale))), max(W, int(round(w * scale)))
    resized = cv2.resize(frames, (new_w, new_h),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (new_h - H) // 2, (new_w - W) // 2
    return np.ascontiguousarray(resized[top:top + H, left:left + W])


# ----------------------------------------------------------------------------
# Writing

@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` (same extension); rename it to `path` on success.

    On any failure the temporary file is removed and an existing `path` is
    left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    base, extension = os.path.splitext(os.path.basename(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % base, suffix=extension, dir=folder)
    except OSError as e:
        raise UserError("cannot write %s: %s" % (path, e.strerror or e))
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _check_frames(frames):
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise ValueError("frames must be uint8 [N > 0, H, W, 3] RGB, got %s %s"
                         % (frames.dtype, frames.shape))
    return frames


def _even(frames):
    """Pad H and W to even sizes (edge pixels): H.264 in yuv420p needs them."""
    _, h, w, _ = frames.shape
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _write_h264(path, frames, fps):
    writer = imageio_ffmpeg.write_frames(
        path, frames.shape[2:0:-1], fps=float(fps), quality=8, macro_block_size=1,
        ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
    writer.send(None)  # start ffmpeg
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _write_mp4v(path, frames, fps):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), float(fps),
                             frames.shape[2:0:-1])
    if not writer.isOpened():
        raise UserError("cannot write MP4 videos: this OpenCV has no MP4 encoder; "
                        "pip install imageio-ffmpeg")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def write_video(path, frames, fps):
    """Write uint8 RGB frames [N, H, W, 3] as an MP4, atomically.

    H.264 (yuv420p, odd sizes padded by one edge pixel) with imageio-ffmpeg,
    else OpenCV's mp4v.
    """
    frames = _even(_check_frames(frames))
    with atomic_path(path) as tmp:
        (_write_h264 if imageio_ffmpeg is not None else _write_mp4v)(tmp, frames, fps)


def write_gif(path, frames, fps):
    """Write uint8 RGB frames [N, H, W, 3] as a looping GIF, atomically."""
    from PIL import Image
    images = [Image.fromarray(frame) for frame in _check_frames(frames)]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(round(1000.0 / fps)), loop=0)


def write_image(path, image):
    """Write a uint8 RGB image `[H, W, 3]` as PNG, atomically."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))  # RGB => BGR
    if not ok:
        raise UserError("cannot encode %s as PNG" % path)
    atomic_write(path, data.tobytes(), "wb")
