"""The synthetic ("artificial") dataset of the paper (§6.1, Fig. 1), generated.

    X      600 frames: colourful rectangles moving on black
    Y      100 frames: circles moving on a background that is blue for the
           first half of each clip (frames t < T/2) and red for the rest
    Z      100 frames: circles moving on black
    Ẑ      100 images: random circles on a blue or a red background
    X_gt   every X clip rendered in the target style: the same shapes, colours
           and motion, drawn as circles over Y's blue-then-red background

Each clip is an independent scene of 1-3 shapes, each with a colour, a size
and a straight-line path that bounces off the borders, so a domain of F frames
gives F // T clips. Shape colours avoid red and blue so they stay visible on
both backgrounds: colour and motion are the content, the shape and the
background the style. The last TEST_FRACTION of the X clips (and of X_gt) is
the test split; scenes are independent draws, so those are as random as any.
Everything comes from `numpy.random.RandomState` seeded by `seed` (one stream
per domain) and OpenCV's deterministic drawing: same seed, same bytes.
"""
import collections

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import UserError
from .storage import IMAGE_DOMAIN, TEST_FRACTION, test_count

BLACK, BLUE, RED = (0, 0, 0), (0, 0, 255), (255, 0, 0)  # RGB
PALETTE = ((255, 255, 0), (0, 255, 0), (0, 255, 255), (255, 0, 255), (255, 140, 0),
           (255, 255, 255), (255, 128, 192), (160, 255, 64))
MAX_SHAPES = 3
HALF_SIZE = (0.06, 0.14)  # half side of a rectangle, as a fraction of H or W
SPEED = (0.02, 0.06)      # pixels per frame, as a fraction of min(H, W)
SUBPIXEL_BITS = 4         # OpenCV draws at 1/16 pixel, so slow motion is smooth

# One moving object: RGB colour, rectangle half sides (hy, hx), circle radius,
# and its centre (y, x) at each frame, [T, 2].
Shape = collections.namedtuple("Shape", "colour half radius centres")


def target_backgrounds(T):
    """Y's background schedule: blue for frames t < T/2, red after."""
    return [BLUE if t < T / 2.0 else RED for t in range(T)]


def _bounce(position, low, high):
    """Fold unbounded positions back into [low, high], as a ball bouncing between walls."""
    span = high - low
    folded = np.mod(position - low, 2 * span)
    return low + np.where(folded > span, 2 * span - folded, folded)


def random_scene(rng, T, H, W):
    """A scene of T frames: a list of 1 to MAX_SHAPES random `Shape`s."""
    shapes = []
    for _ in range(rng.randint(1, MAX_SHAPES + 1)):
        colour = PALETTE[rng.randint(len(PALETTE))]
        half = rng.uniform(*HALF_SIZE, size=2) * (H, W)
        radius = float(half.max())  # the circle covers the rectangle; both stay inside the frame
        low, high = np.array([radius, radius]), np.array([H, W]) - radius
        start = rng.uniform(low, high)
        angle = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(*SPEED) * min(H, W) * np.array([np.sin(angle), np.cos(angle)])
        centres = _bounce(start + np.arange(T)[:, None] * velocity, low, high)
        shapes.append(Shape(colour, half, radius, centres))
    return shapes


def render(scene, shape, backgrounds, H, W):
    """Draw a scene as "rectangle"s or "circle"s over per-frame background colours.

    Returns uint8 [len(backgrounds), H, W, 3] RGB.
    """
    one = 1 << SUBPIXEL_BITS
    frames = np.empty((len(backgrounds), H, W, 3), np.uint8)
    for t, background in enumerate(backgrounds):
        frame = frames[t]
        frame[:] = background
        for colour, half, radius, centres in scene:
            y, x = (centres[t] * one).tolist()
            if shape == "rectangle":
                hy, hx = (half * one).tolist()
                cv2.rectangle(frame, (round(x - hx), round(y - hy)), (round(x + hx), round(y + hy)),
                              colour, -1, cv2.LINE_AA, SUBPIXEL_BITS)
            else:
                cv2.circle(frame, (round(x), round(y)), round(radius * one), colour, -1,
                           cv2.LINE_AA, SUBPIXEL_BITS)
    return frames


def _clips(rng, n, T, H, W, shape, backgrounds, desc):
    scenes = [random_scene(rng, T, H, W) for _ in range(n)]
    return scenes, np.stack([render(s, shape, backgrounds, H, W)
                             for s in tqdm(scenes, desc=desc, unit="clip", disable=None,
                                           leave=False)])


def _clip_count(frames, T, domain):
    n = frames // T
    if n < 1:
        raise UserError("--input_shape: T = %d is longer than the synthetic %s (%d frames)"
                        % (T, domain, frames))
    return n


def generate(shape, seed, x_frames=600, y_frames=100, z_frames=100, z_hat_images=100):
    """The synthetic dataset at `shape` = (T, H, W, 3) => (splits, meta) for `storage.write`."""
    T, H, W, _ = shape
    streams = {d: np.random.RandomState([seed % 2 ** 32, i])  # one per domain
               for i, d in enumerate(("X", "Y", "Z", IMAGE_DOMAIN))}
    black, target = [BLACK] * T, target_backgrounds(T)

    n_x = _clip_count(x_frames, T, "X")
    scenes, x = _clips(streams["X"], n_x, T, H, W, "rectangle", black, "X")
    x_gt = np.stack([render(s, "circle", target, H, W) for s in scenes])
    _, y = _clips(streams["Y"], _clip_count(y_frames, T, "Y"), T, H, W, "circle", target, "Y")
    _, z = _clips(streams["Z"], _clip_count(z_frames, T, "Z"), T, H, W, "circle", black, "Z")
    rng = streams[IMAGE_DOMAIN]
    z_hat = np.stack([render(random_scene(rng, 1, H, W), "circle",
                             [(BLUE, RED)[rng.randint(2)]], H, W)[0]
                      for _ in range(z_hat_images)])

    n_train = n_x - test_count(n_x)
    splits = {"train": {"X": x[:n_train], "X_gt": x_gt[:n_train], "Y": y, "Z": z,
                        IMAGE_DOMAIN: z_hat},
              "test": {"X": x[n_train:], "X_gt": x_gt[n_train:]}}
    meta = {"sources": {"X": "generated: rectangles on black",
                        "X_gt": "generated: X as circles on blue (t < T/2) then red",
                        "Y": "generated: circles on blue (t < T/2) then red",
                        "Z": "generated: circles on black",
                        IMAGE_DOMAIN: "generated: circles on blue or red"},
            "synthetic": {"x_frames": x_frames, "y_frames": y_frames, "z_frames": z_frames,
                          "z_hat_images": z_hat_images, "test_fraction": TEST_FRACTION}}
    return splits, meta
