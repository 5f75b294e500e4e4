"""Datasets built from folders of the user's own videos and images (flower, city, custom).

    <raw_dir>/X/         source videos x
    <raw_dir>/Y/         target-domain videos y
    <raw_dir>/Z/         target-style videos z
    <raw_dir>/Z_images/  target-style images ẑ

A video is a file (.mp4 .avi .mov .mkv .m4v .webm) or a sub-folder of frame
images (natural name order). Frames are decoded with OpenCV, scaled to cover
H x W, centre-cropped, converted to RGB, and cut into clips of T frames
starting every `stride` frames (default T: non-overlapping clips). Videos
shorter than T are skipped with a warning; other files are skipped with one
warning per folder. A file that should be read and cannot (a corrupt video,
frame or image, in any of the four folders) stops preparation with one error
naming it: a broken file is the user's to fix, not one to train around, and
the dataset prepared before stays as it was. A random (seeded) TEST_FRACTION of the X clips, at least
one, is held out for testing; with stride < T the train clips sharing a frame
with a test clip are dropped, so no test frame is seen in training.
"""
import os
import sys

import numpy as np
from tqdm import tqdm

from ..errors import UserError
from ..video_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, has_extension, natural_key,
                        read_image, read_video)
from .storage import IMAGE_DOMAIN, TEST_FRACTION, test_count

VIDEO_FOLDERS = ("X", "Y", "Z")
IMAGE_FOLDER = "Z_images"
LAYOUT = "a folder with X/, Y/, Z/ (videos, or sub-folders of frames) and Z_images/ (images)"


def warn(message):
    print("warning: " + message, file=sys.stderr)


def _is_video(path):
    return os.path.isdir(path) or has_extension(path, VIDEO_EXTENSIONS)


def _is_image(path):
    return os.path.isfile(path) and has_extension(path, IMAGE_EXTENSIONS)


def _list(folder, accept, expected):
    """The entries of `folder` that `accept(path)`, in natural order; warns about the rest."""
    chosen, skipped = [], []
    for name in sorted(os.listdir(folder), key=natural_key):
        if not name.startswith("."):
            path = os.path.join(folder, name)
            (chosen if accept(path) else skipped).append(path)
    if skipped:
        names = [os.path.basename(p) for p in skipped]
        warn("%s: skipped %d entries that are not %s: %s%s" % (
            folder, len(names), expected, ", ".join(names[:3]), ", ..." if len(names) > 3 else ""))
    if not chosen:
        raise UserError("%s: no %s found" % (folder, expected))
    return chosen


def _subfolder(raw_dir, name):
    folder = os.path.join(raw_dir, name)
    if not os.path.isdir(folder):
        raise UserError("--raw_dir %s has no %s/ folder: expected %s" % (raw_dir, name, LAYOUT))
    return folder


def _video_clips(paths, T, H, W, stride, desc):
    """Cut the videos at `paths` into clips => (uint8 [N, T, H, W, 3], used paths, origins).

    origins[i] = [index into used paths, first frame] of clip i.
    """
    clips, used, origins = [], [], []
    for path in tqdm(paths, desc=desc, unit="video", disable=None, leave=False):
        frames, _ = read_video(path, (H, W))
        if len(frames) < T:
            warn("%s: skipped: %d frames, fewer than T = %d" % (path, len(frames), T))
            continue
        starts = range(0, len(frames) - T + 1, stride)
        clips += [frames[s:s + T] for s in starts]
        origins += [[len(used), s] for s in starts]
        used.append(path)
    if not clips:
        raise UserError("%s: none of its %d videos has T = %d frames (lower T in --input_shape)"
                        % (os.path.dirname(paths[0]), len(paths), T))
    return np.stack(clips), used, origins


def split(origins, T, seed):
    """Clip indices (train, test): seeded random test clips, and the clips sharing no frame
    with them. origins[i] = [video, first frame] of clip i."""
    test = sorted(np.random.RandomState(seed % 2 ** 32).permutation(len(origins))
                  [:test_count(len(origins))].tolist())

    def overlaps_test(i):
        (video, start) = origins[i]
        return any(origins[j][0] == video and abs(origins[j][1] - start) < T for j in test)

    train = [i for i in range(len(origins)) if not overlaps_test(i)]
    if not test:
        warn("X has a single clip, so no test split: add X videos")
    elif not train:
        raise UserError("X: no train clip left after holding out %d test clips: add X videos, "
                        "or cut clips with stride T" % len(test))
    return train, test


def build(raw_dir, shape, seed, stride=None):
    """The dataset in `raw_dir` at `shape` = (T, H, W, 3) => (splits, meta) for `storage.write`.

    `meta["clip_origins"][split][domain][i]` = [index into sources[domain], first frame].
    """
    T, H, W, _ = shape
    stride = stride or T
    if stride < 1:
        raise ValueError("stride must be positive, got %d" % stride)
    if not raw_dir:
        raise UserError("--raw_dir is required for this dataset: %s" % LAYOUT)
    if not os.path.isdir(raw_dir):
        raise UserError("--raw_dir %s: no such folder" % raw_dir)
    # List every folder before decoding anything, so layout mistakes fail fast.
    folders = {d: _subfolder(raw_dir, d) for d in VIDEO_FOLDERS + (IMAGE_FOLDER,)}
    videos = {d: _list(folders[d], _is_video, "videos (%s) or folders of frames"
                       % " ".join(VIDEO_EXTENSIONS)) for d in VIDEO_FOLDERS}
    image_paths = _list(folders[IMAGE_FOLDER], _is_image,
                        "images (%s)" % " ".join(IMAGE_EXTENSIONS))

    clips, sources, origins = {}, {}, {}
    for d in VIDEO_FOLDERS:
        clips[d], used, origins[d] = _video_clips(videos[d], T, H, W, stride, d)
        sources[d] = [os.path.relpath(p, raw_dir) for p in used]
    z_hat = np.stack([read_image(p, (H, W)) for p in tqdm(
        image_paths, desc=IMAGE_FOLDER, unit="image", disable=None, leave=False)])
    sources[IMAGE_DOMAIN] = [os.path.relpath(p, raw_dir) for p in image_paths]
    train, test = split(origins["X"], T, seed)

    splits = {"train": {"X": clips["X"][train], "Y": clips["Y"], "Z": clips["Z"],
                        IMAGE_DOMAIN: z_hat},
              "test": {"X": clips["X"][test]}}
    clip_origins = {"train": {"X": [origins["X"][i] for i in train], "Y": origins["Y"],
                              "Z": origins["Z"]},
                    "test": {"X": [origins["X"][i] for i in test]}}
    meta = {"raw_dir": os.path.abspath(raw_dir), "stride": stride, "test_fraction": TEST_FRACTION,
            "sources": sources, "clip_origins": clip_origins}
    return splits, meta
