"""Reading and writing videos, frame folders and images, always as RGB uint8.

Reading decodes with OpenCV (its bundled FFmpeg): `read_video` takes a video
file or a folder of frame images, `read_image` one image. Grayscale, RGBA
(composited over black) and 16-bit inputs come out as 8-bit RGB. Every
failure caused by the input is a `UserError` naming the path.

Reading streams: `VideoReader` decodes one frame at a time (`read_video`
stacks them all).

Writing is atomic (a temporary name beside the target, renamed at the end):
`video_writer` streams frames into an H.264 MP4 that browsers play, through
the ffmpeg binary of `imageio-ffmpeg` when it is installed, else OpenCV's
MPEG-4 Part 2 (`mp4v`, plays in VLC but not in browsers); `write_video`
writes a whole array; `write_gif` uses Pillow.
"""
import contextlib
import os
import re

# Silence FFmpeg's own log lines (e.g. "moov atom not found"): decoding
# failures are reported as one UserError instead. Read at the first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from .errors import UserError  # noqa: E402
from .files import atomic_path, atomic_write, missing  # noqa: E402

try:  # optional: the ffmpeg binary that writes browser-playable H.264
    import imageio_ffmpeg
except ImportError:
    imageio_ffmpeg = None

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
FOLDER_FPS = 25.0  # frame rate reported for a folder of frames (it has none)
SEPARATOR = 2      # grey pixels between the panels of a side-by-side sample


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
        raise UserError("%s: no such image file (%s)" % (path, missing(path)))
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserError("%s: not a readable image (corrupt, or not an image)" % path)
    return _fit(_to_rgb(image, path), size)


def _fit(frame, size):
    return frame if size is None else resize(frame, *size, crop=True)


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


class VideoReader(object):
    """The frames of a video file or a folder of frame images, decoded one at a
    time (a long video never sits in memory whole).

    Opening checks the input and decodes the first frame, so a bad input
    fails before any slow work. Attributes: `path`, `fps` (FOLDER_FPS for a
    folder), `size` `(H, W)` of the frames, `count` (the frame count the
    container reports; exact for a folder; 0 if unknown). Iterating yields
    uint8 RGB frames `[H, W, 3]`; a file that ends before its reported count,
    or a frame of another size, is a UserError naming the path. Use as a
    context manager (or `close()`). With `resize` = (H, W) every frame is
    resized and centre-cropped to it (`resize(crop=True)`) as it is decoded.
    """

    def __init__(self, path, resize=None):
        self.path, self._capture, self._resize = path, None, resize
        if os.path.isdir(path):
            self._files = image_files(path)
            if not self._files:
                raise UserError("%s: folder has no frame images (%s)"
                                % (path, " ".join(IMAGE_EXTENSIONS)))
            self.fps, self.count = FOLDER_FPS, len(self._files)
            self._first = read_image(self._files[0], resize)
        elif not os.path.isfile(path):
            raise UserError("%s: no such video file or frame folder (%s)" % (path, missing(path)))
        else:
            self._files = None
            with _opencv_quiet():
                self._capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
            if not self._capture.isOpened():
                self.close()
                raise UserError("%s: cannot open as a video (not a video file, or "
                                "truncated/corrupt)" % path)
            fps = self._capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps if fps > 0 else FOLDER_FPS
            self.count = max(int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
            self._first = self._decode()
            if self._first is None:
                self.close()
                if self.count:
                    raise UserError("%s: truncated or corrupt video: decoded 0 of its %d "
                                    "frames" % (path, self.count))
                raise UserError("%s: no frame could be decoded (corrupt video?)" % path)
        self.size = self._first.shape[:2]

    def _decode(self):
        ok, frame = self._capture.read()
        return _fit(_to_rgb(frame, self.path), self._resize) if ok else None

    def _frames(self):
        yield self._first
        if self._files is not None:
            for name in self._files[1:]:
                yield read_image(name, self._resize)
            return
        decoded = 1
        while True:
            frame = self._decode()
            if frame is None:
                break
            decoded += 1
            yield frame
        if self.count and decoded < self.count:
            raise UserError("%s: truncated or corrupt video: decoded %d of its %d frames"
                            % (self.path, decoded, self.count))

    def __iter__(self):
        for k, frame in enumerate(self._frames()):
            if frame.shape[:2] != self.size:
                name = self._files[k] if self._files is not None else "%s frame %d" % (
                    self.path, k)
                raise UserError("%s: frame size %dx%d differs from the first frame's %dx%d"
                                % ((name,) + frame.shape[:2] + tuple(self.size)))
            yield frame

    def windows(self, n):
        """Consecutive stacks of n frames `[n, H, W, 3]` (the last may be shorter)."""
        window = []
        for frame in self:
            window.append(frame)
            if len(window) == n:
                yield np.stack(window)
                window = []
        if window:
            yield np.stack(window)

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_video(path, size=None):
    """A video file or a folder of frame images => (frames [N, H, W, 3] uint8 RGB, fps).

    With `size` = (H, W) each frame is resized and centre-cropped while
    decoding, so a long high-resolution video never sits in memory whole.
    Frames of a folder are taken in natural name order at FOLDER_FPS.
    """
    with VideoReader(path, size) as reader:
        return np.stack(list(reader)), reader.fps


def resize(frames, H, W, crop=False):
    """Frames `[h, w, 3]` or `[N, h, w, 3]` at H x W, the same rank: the one
    resize of the code base, with two policies.

    crop=True (datasets): scale to cover H x W with the aspect ratio kept, then
    take the centre, so training clips are never distorted.
    crop=False (translate, choice): stretch to H x W, so every input pixel is
    translated and the output, resized back, fills the input's frame.
    INTER_AREA when shrinking, bilinear when enlarging.
    """
    frames = np.asarray(frames)
    if frames.ndim == 4:
        out = np.empty((len(frames), H, W, frames.shape[-1]), frames.dtype)
        for i, frame in enumerate(frames):
            out[i] = resize(frame, H, W, crop)
        return out
    h, w = frames.shape[:2]
    if (h, w) == (H, W):
        return frames
    new_h, new_w = H, W
    if crop:                # cover H x W, aspect kept
        scale = max(H / h, W / w)
        new_h, new_w = max(H, int(round(h * scale))), max(W, int(round(w * scale)))
    shrink = new_h * new_w < h * w
    resized = cv2.resize(frames, (new_w, new_h),
                         interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    top, left = (new_h - H) // 2, (new_w - W) // 2
    return np.ascontiguousarray(resized[top:top + H, left:left + W])


# ----------------------------------------------------------------------------
# Writing

def _check_frames(frames):
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise ValueError("frames must be uint8 [N > 0, H, W, 3] RGB, got %s %s"
                         % (frames.dtype, frames.shape))
    return frames


class _H264(object):
    """imageio-ffmpeg's ffmpeg binary: H.264, yuv420p (browsers play it); odd
    frame sizes, which yuv420p cannot hold, as yuv444p (exact size)."""

    def __init__(self, path, fps, size):
        H, W = size
        self._writer = imageio_ffmpeg.write_frames(
            path, (W, H), fps=float(fps), quality=8, macro_block_size=1,
            pix_fmt_out="yuv420p" if H % 2 == 0 and W % 2 == 0 else "yuv444p",
            ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
        self._writer.send(None)  # start ffmpeg

    def write(self, frame):
        self._writer.send(np.ascontiguousarray(frame))

    def close(self):
        self._writer.close()


class _Mp4v(object):
    """OpenCV's MPEG-4 Part 2 (`mp4v`): plays in VLC, not in browsers."""

    def __init__(self, path, fps, size):
        H, W = size
        self._writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (W, H))
        if not self._writer.isOpened():
            raise UserError("cannot write MP4 videos: this OpenCV has no MP4 encoder; "
                            "pip install imageio-ffmpeg")

    def write(self, frame):
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def close(self):
        self._writer.release()


ENCODERS = ("auto", "h264", "mp4v")


@contextlib.contextmanager
def video_writer(path, fps, size, encoder="auto"):
    """Yield `write(frames)` that appends uint8 RGB frames `[N, H, W, 3]` of
    `size` (H, W) to the MP4 `path`, encoded as they come (memory does not
    grow with the video).

    The video is written to a hidden temporary file beside `path` and renamed
    to it when the block ends without an error; on any error (or SIGTERM,
    which main.py turns into one) the temporary file is removed and an
    existing `path` is left as it was. `encoder`: "h264" (imageio-ffmpeg),
    "mp4v" (OpenCV's), or "auto": H.264 if imageio-ffmpeg is installed.
    """
    if encoder not in ENCODERS:
        raise ValueError("encoder must be one of %s, got %r" % (ENCODERS, encoder))
    if encoder == "auto":
        encoder = "h264" if imageio_ffmpeg is not None else "mp4v"
    if encoder == "h264" and imageio_ffmpeg is None:
        raise UserError("H.264 output needs imageio-ffmpeg: pip install imageio-ffmpeg")
    with atomic_path(path) as tmp:
        encoder = {"h264": _H264, "mp4v": _Mp4v}[encoder](tmp, fps, size)
        finished, written = False, [0]

        def write(frames):
            frames = _check_frames(frames)
            if frames.shape[1:3] != tuple(size):
                raise ValueError("frames are %dx%d, the video %dx%d"
                                 % (frames.shape[1:3] + tuple(size)))
            try:
                for frame in frames:
                    encoder.write(frame)
            except (IOError, OSError) as e:       # the encoder died: disk full, file too large
                raise UserError("writing %s failed after %d frames: the encoder stopped (%s; "
                                "disk full?)" % (path, written[0], _first_line(e)))
            written[0] += len(frames)
        try:
            yield write
            finished = True
        finally:
            try:
                encoder.close()
            except Exception:    # an encoder that failed mid-video: its error, not this one
                if finished:
                    raise
        _check_written(tmp, path, written[0])


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _check_written(tmp, path, frames):
    """The encoded file `tmp` must open as a video of `frames` frames before it
    replaces `path` (an encoder can exit early, e.g. on a full disk, and
    leave a file without its index)."""
    with _opencv_quiet():
        capture = cv2.VideoCapture(tmp)
        try:
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else -1
        finally:
            capture.release()
    if count != frames:
        raise UserError("writing %s failed: the encoded video is incomplete (%s, %d frames "
                        "sent; disk full?); nothing was replaced" % (
                            path, "unreadable" if count < 0 else "%d frames" % count, frames))


def is_video(path):
    """Whether `path` opens as a video with at least one frame."""
    with _opencv_quiet():
        capture = cv2.VideoCapture(path)
        try:
            return capture.isOpened() and capture.get(cv2.CAP_PROP_FRAME_COUNT) > 0
        finally:
            capture.release()


def write_video(path, frames, fps, encoder="auto"):
    """Write uint8 RGB frames [N, H, W, 3] as an MP4, atomically (`video_writer`)."""
    frames = _check_frames(frames)
    with video_writer(path, fps, frames.shape[1:3], encoder) as write:
        write(frames)


def side_by_side(*videos):
    """uint8 videos `[T, H, W, 3]` => one `[T, H, n W + (n - 1) SEPARATOR, 3]` video."""
    T, H = videos[0].shape[:2]
    bar = np.full((T, H, SEPARATOR, 3), 128, np.uint8)
    panels = []
    for v in videos:
        panels += [v, bar]
    return np.concatenate(panels[:-1], axis=2)


def strip(*videos):
    """uint8 videos `[T, H, W, 3]` => one image, a row per video and the frames
    from left to right, rows and frames `SEPARATOR` pixels apart."""
    rows = [side_by_side(*video[:, None])[0] for video in videos]   # [H, T W + ..., 3] each
    bar = np.full((SEPARATOR, rows[0].shape[1], 3), 128, np.uint8)
    return np.concatenate([part for row in rows for part in (row, bar)][:-1], axis=0)


def write_gif(path, frames, fps):
    """Write uint8 RGB frames [N, H, W, 3] as a looping GIF, atomically."""
    from PIL import Image
    images = [Image.fromarray(frame) for frame in _check_frames(frames)]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(round(1000.0 / fps)), loop=0)


def encode_png(image, name="image"):
    """A uint8 RGB image `[H, W, 3]` => the bytes of a PNG file."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))  # RGB => BGR
    if not ok:
        raise UserError("cannot encode %s as PNG" % name)
    return data.tobytes()


def write_image(path, image):
    """Write a uint8 RGB image `[H, W, 3]` as PNG, atomically."""
    atomic_write(path, encode_png(image, path), "wb")
