import io
import os
import tarfile

import cv2
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from rl_v2v_gan import metrics
from rl_v2v_gan.tf_compat import tf

FEATURES = 8


# --- Fréchet distance, closed forms -----------------------------------------

def test_frechet_distance_of_identical_gaussians_is_zero(rng):
    a = rng.normal(size=(4, 4))
    sigma = a.dot(a.T) + np.eye(4)
    mu = rng.normal(size=4)
    assert abs(metrics.frechet_distance(mu, sigma, mu, sigma)) < 1e-8


def test_frechet_distance_of_a_mean_shift_is_its_squared_norm(rng):
    a = rng.normal(size=(3, 3))
    sigma = a.dot(a.T) + np.eye(3)
    mu = rng.normal(size=3)
    shift = np.array([1.0, -2.0, 0.5])
    assert metrics.frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(5.25)


def test_frechet_distance_of_diagonal_covariances():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # 1 + 1 + 6.25
    d = metrics.frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b))
    assert d == pytest.approx(expected + 3.0)


def test_frechet_distance_of_singular_covariances_is_finite():
    d = metrics.frechet_distance(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([0.0, 1.0]))
    assert d == pytest.approx(2.0, abs=1e-3)


def test_frechet_distance_rejects_indefinite_covariances():
    with pytest.raises(ValueError, match="imaginary"):
        metrics.frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))


def test_gaussian_stats(rng):
    x = rng.normal(size=(10, 3))
    mu, sigma = metrics.gaussian_stats(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x.T))
    with pytest.raises(ValueError):
        metrics.gaussian_stats(x[:1])


# --- Inception loading with a stand-in frozen graph -------------------------

def write_stand_in_inception(path, input_shape, resize_to=None):
    """A tiny frozen 'Inception': ExpandDims:0 (0..255) => conv => pool_3:0 [N, 1, 1, 8]."""
    with tf.Graph().as_default() as g:
        images = tf.placeholder(tf.float32, input_shape, name="ExpandDims")
        h = images / 255.0
        if resize_to:
            h = tf.image.resize_bilinear(h, [resize_to, resize_to])
        kernel = np.random.RandomState(1).normal(size=(3, 3, 3, FEATURES)).astype(np.float32)
        h = tf.nn.relu(tf.nn.conv2d(h, tf.constant(kernel), [1, 2, 2, 1], "SAME") - 0.5)
        tf.reduce_mean(h, axis=[1, 2], keepdims=True, name="pool_3")
    path.write_bytes(g.as_graph_def().SerializeToString())
    return str(path)


def frame_sets(rng, n=24, size=(20, 24)):
    """Two frame sets from different distributions: noise and smooth ramps."""
    noise = rng.randint(0, 256, (n,) + size + (3,)).astype(np.uint8)
    ramp = np.linspace(0, 1, size[1])[None, None, :, None] * rng.uniform(50, 255, (n, 1, 1, 3))
    return noise, np.broadcast_to(ramp, noise.shape).astype(np.uint8)


@pytest.mark.parametrize("input_shape, input_size", [
    ([None, 16, 16, 3], None),           # static size: frames resized to 16x16
    ([1, None, None, 3], 32),            # TTUR style: batch 1, any size, resized inside
])
def test_inception_features_and_fid_on_stand_in_graph(tmp_path, rng, input_shape, input_size):
    path = write_stand_in_inception(tmp_path / "inception.pb", input_shape,
                                    resize_to=None if input_shape[1] else 16)
    noise, ramps = frame_sets(rng)
    with metrics.InceptionFeatures(path, input_size=input_size, batch_size=5,
                                   download=False) as features:
        assert features.input_size == ((16, 16) if input_size is None else (32, 32))
        f = features(noise)
        assert f.shape == (24, FEATURES) and f.dtype == np.float64
        features.batch_size = 50  # batching does not change the result
        np.testing.assert_allclose(features(noise), f, rtol=1e-5, atol=1e-6)
        clips = noise.reshape(4, 6, 20, 24, 3)  # clips are pooled into frames
        assert abs(metrics.fid(clips, noise, features)) < 1e-6
        assert metrics.fid(noise, ramps, features) > 1e-2


def test_inception_from_folder_and_wrong_tensor_names(tmp_path):
    write_stand_in_inception(tmp_path / metrics.INCEPTION_FILE, [None, 16, 16, 3])
    with metrics.InceptionFeatures(str(tmp_path), download=False) as features:
        assert features(np.zeros((2, 16, 16, 3), np.uint8)).shape == (2, FEATURES)
    with pytest.raises(metrics.InceptionUnavailable, match="tensor names"):
        metrics.InceptionFeatures(str(tmp_path), output_name="pool_4:0", download=False)
    (tmp_path / "garbage.pb").write_bytes(b"\xff not a graph")
    with pytest.raises(metrics.InceptionUnavailable, match="not a frozen TensorFlow GraphDef"):
        metrics.InceptionFeatures(str(tmp_path / "garbage.pb"), download=False)


def test_missing_inception_raises_a_helpful_error(tmp_path):
    with pytest.raises(metrics.InceptionUnavailable) as info:
        metrics.InceptionFeatures(download=False, cache_dir=str(tmp_path / "cache"))
    message = str(info.value)
    for needed in (metrics.INCEPTION_FILE, metrics.INCEPTION_URL, "--inception_path",
                   str(tmp_path / "cache"), "downloading is disabled"):
        assert needed in message
    missing = str(tmp_path / "nowhere.pb")
    with pytest.raises(metrics.InceptionUnavailable, match="nowhere.pb"):
        metrics.find_inception_graph(missing)


def test_inception_download_extracts_the_graph_into_the_cache(tmp_path):
    """Through a file:// URL: the download path without touching the network."""
    cache = str(tmp_path / "cache")
    payload = b"stand-in graph bytes"
    archive = tmp_path / "inception.tgz"
    with tarfile.open(str(archive), "w:gz") as tar:
        info = tarfile.TarInfo("inception-2015-12-05/" + metrics.INCEPTION_FILE)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(metrics.InceptionUnavailable, match="download from .* failed"):
        metrics.find_inception_graph(url=(tmp_path / "absent.tgz").as_uri(), cache_dir=cache)
    path = metrics.find_inception_graph(url=archive.as_uri(), cache_dir=cache)
    assert path == str(tmp_path / "cache" / metrics.INCEPTION_FILE)
    with open(path, "rb") as f:
        assert f.read() == payload
    assert metrics.find_inception_graph(download=False, cache_dir=cache) == path  # cached now
    assert os.listdir(cache) == [metrics.INCEPTION_FILE]           # no partial file left


# --- PSNR and SSIM ----------------------------------------------------------

def test_psnr_and_ssim_match_scikit_image(rng):
    truth = rng.randint(0, 256, (2, 3, 16, 16, 3)).astype(np.uint8)
    noisy = np.clip(truth + rng.normal(0, 20, truth.shape), 0, 255).astype(np.uint8)
    expected_psnr = np.array([[peak_signal_noise_ratio(truth[n, t], noisy[n, t], data_range=255)
                               for t in range(3)] for n in range(2)])
    expected_ssim = np.array([[structural_similarity(truth[n, t], noisy[n, t], channel_axis=-1,
                                                     data_range=255)
                               for t in range(3)] for n in range(2)])
    for scores, expected in ((metrics.psnr(noisy, truth), expected_psnr),
                             (metrics.ssim(noisy, truth), expected_ssim)):
        assert scores.per_frame.shape == (3,)
        np.testing.assert_allclose(scores.per_frame, expected.mean(0))
        assert scores.mean == pytest.approx(expected.mean())


def test_identical_clips_psnr_is_capped_and_ssim_is_one(rng):
    clip = rng.randint(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    other = clip.copy()
    other[0] ^= 1  # frame 0 differs by one grey level: ~48 dB
    scores = metrics.psnr(other, clip)
    np.testing.assert_allclose(scores.per_frame[1:], metrics.PSNR_CAP_DB)
    assert 45 < scores.per_frame[0] < 50
    assert np.isinf(metrics.psnr(clip, clip, cap_db=None).mean)
    assert metrics.ssim(clip, clip).mean == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr(clip, clip[:3])


# --- Temporal consistency ---------------------------------------------------

def moving_texture(rng, T=6, size=40, step=1):
    """A smooth random RGB texture panning diagonally by `step` px per frame."""
    big = size + T * step
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (big, big, 3)).astype(np.float32), (0, 0), 2)
    texture = (texture - texture.min()) / np.ptp(texture) * 255
    frames = [texture[t * step:t * step + size, t * step:t * step + size] for t in range(T)]
    return np.stack(frames).astype(np.uint8)


def test_warping_error_is_small_for_a_colour_map_and_large_when_shuffled(rng):
    source = moving_texture(rng)
    inverted = 255 - source  # a pixel-wise translation keeps the motion
    consistent = metrics.warping_error(source, inverted)
    shuffled = metrics.warping_error(source, inverted[[3, 0, 5, 1, 4, 2]])
    assert consistent.per_frame.shape == (5,)
    assert consistent.mean < 1e-4
    assert shuffled.mean > 1e-2
    assert metrics.warping_error(source, inverted, mask_occlusions=False).mean < 1e-4


def test_occlusion_mask_keeps_consistent_flow_only():
    flow_back = np.zeros((6, 8, 2), np.float32)
    flow_back[..., 0] = -2.0  # frame t+1 came from 2 px to the left
    flow_fwd = -flow_back
    assert metrics._consistent_flow(flow_back, flow_fwd).all()
    flow_fwd[:, 3:5] = 0.0  # where these pixels went, the forward flow disagrees
    mask = metrics._consistent_flow(flow_back, flow_fwd)
    assert not mask[:, 5:7].any() and mask[:, :3].all() and mask[:, 7:].all()


def test_flicker():
    levels = np.array([0, 51, 51, 102], np.uint8)  # changes of 0.2, 0, 0.2
    clip = np.broadcast_to(levels[:, None, None, None], (4, 8, 8, 3))
    np.testing.assert_allclose(metrics.flicker(clip).per_frame, [0.2, 0.0, 0.2], atol=1e-6)
    assert metrics.flicker(clip).mean == pytest.approx(0.4 / 3)
    assert metrics.flicker(clip, source=clip).mean == pytest.approx(0.0)
    static = np.zeros_like(clip)
    assert metrics.flicker(static, source=clip).mean == pytest.approx(-0.4 / 3)


# --- Background-colour accuracy ---------------------------------------------

BLUE, RED = (20, 30, 220), (210, 25, 40)


def synthetic_clip(rng, backgrounds, size=24):
    """Frames with the given background colours and random circles on top,
    one of them cut by the frame's border."""
    frames = []
    for colour in backgrounds:
        frame = np.empty((size, size, 3), np.uint8)
        frame[:] = colour
        for _ in range(3):
            centre = tuple(int(c) for c in rng.randint(4, size - 4, 2))
            cv2.circle(frame, centre, 4, tuple(int(c) for c in rng.randint(0, 256, 3)), -1)
        cv2.circle(frame, (0, size // 2), 5, (255, 255, 0), -1)
        frames.append(frame)
    return np.stack(frames)


def test_target_background_schedule():
    np.testing.assert_array_equal(metrics.target_background_is_blue(4), [1, 1, 0, 0])
    np.testing.assert_array_equal(metrics.target_background_is_blue(5), [1, 1, 1, 0, 0])


def test_background_accuracy(rng):
    right = np.stack([synthetic_clip(rng, [BLUE] * 3 + [RED] * 3) for _ in range(2)])
    all_blue = synthetic_clip(rng, [BLUE] * 6)
    swapped = synthetic_clip(rng, [RED] * 3 + [BLUE] * 3)
    np.testing.assert_allclose(metrics.background_colour(all_blue)[0], np.tile(BLUE, (6, 1)),
                               atol=1)
    scores = metrics.background_accuracy(right)
    assert scores.per_frame.shape == (6,) and scores.mean == 1.0
    blue_scores = metrics.background_accuracy(all_blue)
    np.testing.assert_array_equal(blue_scores.per_frame, [1, 1, 1, 0, 0, 0])
    assert blue_scores.mean == 0.5
    assert metrics.background_accuracy(swapped).mean == 0.0
    mixed = np.stack([right[0], swapped])  # per frame: averaged over clips
    np.testing.assert_allclose(metrics.background_accuracy(mixed).per_frame, 0.5)
    black = synthetic_clip(rng, [(0, 0, 0)] * 6)
    assert metrics.background_accuracy(black).mean == 0.0  # neither blue nor red


# --- evaluate_clips and the table -------------------------------------------

class MeanColourFeatures(object):
    """A stand-in feature extractor: mean colour and brightness spread."""

    def __call__(self, frames):
        frames = np.asarray(frames, np.float64).reshape((-1,) + np.shape(frames)[-3:])
        return np.concatenate([frames.mean((1, 2)), frames.std((1, 2))], axis=1)


def test_evaluate_clips_and_table(rng):
    source = moving_texture(rng)[None].repeat(2, axis=0)
    translated = 255 - source
    basic = metrics.evaluate_clips(source, translated)
    assert list(basic) == ["fid", "psnr", "ssim", "warping_error", "flicker"]
    assert basic["fid"] == basic["psnr"] == basic["ssim"] == metrics.NOT_APPLICABLE
    assert basic["warping_error"] < 1e-4 and basic["flicker"] == pytest.approx(0.0, abs=1e-3)

    full = metrics.evaluate_clips(source, translated, ground_truth=translated,
                                  features=MeanColourFeatures(), synthetic=True)
    assert full["psnr"] == metrics.PSNR_CAP_DB and full["ssim"] == pytest.approx(1.0)
    assert abs(full["fid"]) < 1e-6
    assert 0.0 <= full["background_accuracy"] <= 1.0  # a texture has no blue/red schedule
    versus_source = metrics.evaluate_clips(source, translated, features=MeanColourFeatures(),
                                           target=source)
    assert versus_source["fid"] > 1.0

    table = metrics.format_table(full)
    lines = table.splitlines()
    assert lines[0] == "| metric | value | better |" and len(lines) == 2 + 6
    assert "| PSNR (dB) | 100.0000 | higher |" in lines
    assert "| PSNR (dB) | n/a | higher |" in metrics.format_table(basic)


# --- scripts/object_colours.py ----------------------------------------------

def test_object_colours_finds_the_recoloured_palette_colour():
    import importlib.util
    from rl_v2v_gan.data import synthetic
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "scripts", "object_colours.py")
    spec = importlib.util.spec_from_file_location("object_colours", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    T, H, W = 4, 32, 32
    scene = [synthetic.Shape((0, 255, 255), np.array([4.0, 4.0]), 4.0,
                             np.array([[10.0, 10.0]] * T)),
             synthetic.Shape((255, 255, 0), np.array([4.0, 4.0]), 4.0,
                             np.array([[22.0, 22.0]] * T))]
    schedule = synthetic.target_backgrounds(T)
    source = synthetic.render(scene, "rectangle", [synthetic.BLACK] * T, H, W)[None]
    truth = synthetic.render(scene, "circle", schedule, H, W)[None]
    recoloured = [scene[0]._replace(colour=(0, 255, 0)), scene[1]]   # cyan painted green
    translated = synthetic.render(recoloured, "circle", schedule, H, W)[None]
    rows = {(half, colour): (mean, nearest, error)
            for half, colour, mean, nearest, error, _ in module.colour_table(source, translated,
                                                                             truth)}
    assert set(rows) == {(h, c) for h in ("blue", "red") for c in ((0, 255, 255), (255, 255, 0))}
    for half in ("blue", "red"):
        assert rows[half, (0, 255, 255)] == ((0, 255, 0), (0, 255, 0), pytest.approx(255 / 3 ** 0.5))
        assert rows[half, (255, 255, 0)] == ((255, 255, 0), (255, 255, 0), 0.0)
