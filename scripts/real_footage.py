"""Measure a translation of real footage (docs/real_footage.md).

    python scripts/real_footage.py flower --source X.mp4 --translated OUT.mp4 --target Y.mp4 \
        [--size 64] [--strip strip.png] [--json numbers.json]

All three videos are read at --size x --size (resized and centre-cropped
like training data). What is measured, on every frame:

flower (red -> yellow): the source's red flower pixels (HSV hue within 12° of
  red, saturation and value >= 0.35) and the share of them that come out
  yellow (hue 40°-70°, saturation and value >= 0.35); the same share in the
  source, for reference; and how much every other pixel changed (mean
  absolute RGB difference, 0-255).
city (day -> night): mean brightness (Rec. 601 luma, 0-255), luma spread
  (standard deviation) and mean R, G, B of the source, the translation and
  the target clip; and the distance of the translation's mean colour to the
  target's against the source's.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan import video_io  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402

SATURATED = 0.35      # saturation and value a hue must have to count
RED_HUES = 12.0       # degrees either side of 0°
YELLOW_HUES = (40.0, 70.0)
LUMA = np.array([0.299, 0.587, 0.114])


def hsv(frames):
    """uint8 RGB [N, H, W, 3] => hue in degrees [0, 360), saturation, value in [0, 1]."""
    out = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2HSV_FULL) for f in frames]).astype(np.float64)
    return out[..., 0] * 360.0 / 256.0, out[..., 1] / 255.0, out[..., 2] / 255.0


def vivid(frames, hue_test):
    hue, sat, val = hsv(frames)
    return hue_test(hue) & (sat >= SATURATED) & (val >= SATURATED)


def is_red(hue):
    return (hue <= RED_HUES) | (hue >= 360.0 - RED_HUES)


def is_yellow(hue):
    return (hue >= YELLOW_HUES[0]) & (hue <= YELLOW_HUES[1])


def flower_numbers(source, translated):
    """Shares of the source's red pixels that are yellow in the translation and
    in the source; mean absolute RGB change of the other pixels."""
    red = vivid(source, is_red)
    if not red.any():
        raise UserError("the source has no red pixels: is it the red-flower clip?")
    yellow_out, yellow_in = vivid(translated, is_yellow), vivid(source, is_yellow)
    change = np.abs(translated.astype(np.float64) - source).mean(-1)
    return {"red_pixels": float(red.mean()),
            "red_to_yellow": float(yellow_out[red].mean()),
            "red_already_yellow": float(yellow_in[red].mean()),
            "other_pixels_change": float(change[~red].mean()),
            "red_pixels_change": float(change[red].mean())}


def colour_stats(frames):
    pixels = frames.reshape(-1, 3).astype(np.float64)
    luma = pixels @ LUMA
    return {"luma": float(luma.mean()), "luma_std": float(luma.std()),
            "rgb": [round(float(c), 1) for c in pixels.mean(0)]}


def city_numbers(source, translated, target):
    stats = {name: colour_stats(v) for name, v in
             (("source", source), ("translated", translated), ("target", target))}
    goal = np.array(stats["target"]["rgb"])
    for name in ("source", "translated"):
        stats[name]["rgb_distance_to_target"] = float(np.linalg.norm(
            np.array(stats[name]["rgb"]) - goal))
    return stats


def read(path, size):
    if not os.path.exists(path):
        raise UserError("%s: no such video" % path)
    return video_io.read_video(path, (size, size))[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("kind", choices=("flower", "city"))
    p.add_argument("--source", required=True, help="the source clip (domain X)")
    p.add_argument("--translated", required=True, help="its translation (--mode translate)")
    p.add_argument("--target", required=True, help="a clip of the target domain (Y)")
    p.add_argument("--size", type=int, default=64, help="frames are compared at SIZE x SIZE")
    p.add_argument("--strip", help="write a PNG: source / translation / target, frame by frame")
    p.add_argument("--json", help="write the numbers here too")
    opts = p.parse_args()
    try:
        source, translated, target = (read(path, opts.size) for path in
                                      (opts.source, opts.translated, opts.target))
        if len(translated) != len(source):
            raise UserError("--translated %s has %d frames, --source %s has %d"
                            % (opts.translated, len(translated), opts.source, len(source)))
        numbers = (flower_numbers(source, translated) if opts.kind == "flower"
                   else city_numbers(source, translated, target))
        T = min(len(source), len(target))
        if opts.strip:
            video_io.write_image(opts.strip, video_io.strip(source[:T], translated[:T],
                                                            target[:T]))
        if opts.json:
            with open(opts.json, "w") as f:
                json.dump(numbers, f, indent=1)
    except UserError as e:
        sys.exit("error: %s" % e)
    print(json.dumps(numbers, indent=1))


if __name__ == "__main__":
    main()
