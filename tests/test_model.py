"""Eq. (10)'s pre-training terms (objectives.py) and Algorithm 1's
discriminator losses, rewards and DDPG losses (rl.py) against numpy, on stub
networks whose outputs are simple functions of their inputs: a wrong head,
mask, sign, weight, frame or domain changes the numbers."""
import types

import numpy as np
import pytest

from rl_v2v_gan import objectives, ops, rl
from rl_v2v_gan.networks import Networks
from rl_v2v_gan.tf_compat import tf

T, H, W = 4, 2, 2
WEIGHTS = dict(lambda_rx=0.1, lambda_ry=0.2, lambda_rcx=3.0, lambda_rcy=4.0, lambda_v=0.5,
               lambda_id=0.0)
D_SCALES = {"X": (1.5,), "Y": (0.7, -2.0)}           # D_d's heads: logit k = scale_k * running mean
G_MAP = {"X": (0.5, 0.1), "Y": (-0.5, 0.2)}         # G_d(v) = a v + b, pixel by pixel
P_SCALE = {"X": 0.9, "Y": 0.8}                      # P_d(v)_t = c v_t


def softplus(v):
    return np.log1p(np.exp(v))


def masked_mean(values, mask):
    mask = np.broadcast_to(mask, values.shape)
    return (values * mask).sum() / max(mask.sum(), 1.0)


def d_numpy(d, clip):
    """The stub D_d's logits at every step: `[B, T, n]`."""
    means = clip.mean(axis=(2, 3, 4))
    running = np.cumsum(means, axis=1) / np.arange(1, clip.shape[1] + 1)
    return np.stack([s * running for s in D_SCALES[d]], axis=-1)


def g_numpy(d, v):
    a, b = G_MAP[d]
    return a * v + b


class StubD(object):
    """Causal: logit k at step t is scale_k times the mean of frames 1..t."""

    def __init__(self, d):
        self.scales = D_SCALES[d]

    def __call__(self, clip, lengths=None, steps=False, **unused):
        means = tf.reduce_mean(clip, axis=[2, 3, 4])
        running = tf.cumsum(means, axis=1) / tf.range(1.0, clip.shape.as_list()[1] + 1.0)
        logits = tf.stack([s * running for s in self.scales], axis=-1)
        return logits if steps else ops.last_step(logits, lengths)


def stub_networks(g_map=G_MAP, p_scale=P_SCALE, q_bias=0.0):
    def G(d):
        a, b = g_map[d]
        return lambda clip, **unused: a * clip + b

    def P(d):
        return lambda clip, **unused: p_scale[d] * clip

    def Q(clip, action, **unused):        # prefers the brighter action
        return tf.reduce_mean(action, axis=[1, 2, 3]) + q_bias

    return Networks(G_X=G("X"), G_Y=G("Y"), P_X=P("X"), P_Y=P("Y"), D_X=StubD("X"),
                    D_Y=StubD("Y"), Q_X=Q, Q_Y=Q)


def flags(frame_terms="prefix", form="nonsaturating", weights=WEIGHTS, **more):
    """What the objectives read of `config.Flags`."""
    return types.SimpleNamespace(weights=weights, frame_terms=frame_terms, gan_loss=form, **more)


def run(tensors):
    with tf.Session() as sess:
        return sess.run(tensors)


COSTS = {  # (real_cost, fake_cost) of D's logits, `losses.real_cost` / `fake_cost`
    "least_squares": (lambda v: (v - 1.0) ** 2, lambda v: v ** 2),
    "nonsaturating": (lambda v: softplus(-v), softplus),
}


def recycle_numpy(g_back, p_other, translated, t):
    """`objectives.recycle_clip` of the stubs: frames 1..t of the translated
    clip, then P's prediction from them, translated back."""
    clip = translated.copy()
    clip[np.arange(len(t)), t] = P_SCALE[p_other] * translated[np.arange(len(t)), t - 1]
    return g_numpy(g_back, clip)


def mse(a, b):
    """Per-frame mean squared error `[..., H, W, 3] => [...]`."""
    return ((a - b) ** 2).mean(axis=(-3, -2, -1))


@pytest.mark.parametrize("form", ["least_squares", "nonsaturating"])
def test_pretrain_losses_are_eq_10_term_by_term(graph, rng, form):
    """Every term of eq. (10) with the default recipe's choices (prefix frame
    terms, temporal negatives, recycle loss on all frames, identity term)."""
    B, N = 2, 3
    weights = dict(WEIGHTS, lambda_id=2.0)
    clip = lambda n: rng.uniform(-1, 1, (n, T, H, W, 3)).astype(np.float32)
    batch = {"x": clip(B), "y": clip(B), "z": clip(B),
             "z_hat": rng.uniform(-1, 1, (N, H, W, 3)).astype(np.float32),
             "t_x": np.array([1, 3], np.int32), "t_yz": np.array([2, 1, 3, 2], np.int32)}
    args = flags("prefix", form, weights, bounce_negatives="on", shift_negatives="on",
                 recycle_frames="all")
    out = run(objectives.pretrain_losses(stub_networks(), {k: tf.constant(v)
                                                           for k, v in batch.items()}, args))

    real, fake = COSTS[form]
    x, y, z, t_x, t_yz = (batch[k] for k in ("x", "y", "z", "t_x", "t_yz"))
    yz = np.concatenate([y, z])
    steps = lambda k: (np.arange(T)[None] <= k[:, None]).astype(float)   # frames 1..t+1
    # Y -> X: eq. (2) on frames, eq. (8) on videos (the last step), eq. (6).
    d_x, d_gx = d_numpy("X", x)[..., 0], d_numpy("X", g_numpy("X", yz))[..., 0]
    expected = {
        "L_g_X": real(d_gx).mean(),
        "L_rc_Y": masked_mean(mse(yz, recycle_numpy("Y", "X", g_numpy("X", yz), t_yz)),
                              steps(t_yz)),
        "L_id_X": mse(x, g_numpy("X", x)).mean()}
    v_x = real(d_gx[:, -1]).mean()
    d_loss_x = (real(d_x).mean() + fake(d_gx).mean()
                + weights["lambda_v"] * (real(d_x[:, -1]).mean() + fake(d_gx[:, -1]).mean()))
    # X -> Y: eq. (1) with the style head on Z_hat, eq. (9) with Z's videos, eq. (5).
    assert T == 4    # `temporal_negatives`: bounced, then shifted late and early
    negatives = np.concatenate([y[:, [0, 1, 0, 1]], y[:, [3, 2, 3, 2]],
                                y[:, [0, 0, 1, 2]], y[:, [1, 2, 3, 3]]])
    d_y, d_z, d_gy = d_numpy("Y", y), d_numpy("Y", z), d_numpy("Y", g_numpy("Y", x))
    d_neg, style = d_numpy("Y", negatives), d_numpy("Y", batch["z_hat"][:, None])[:, -1]
    expected.update({
        "L_g_Y": real(d_gy[..., 0]).mean(),
        "L_rc_X": masked_mean(mse(x, recycle_numpy("X", "Y", g_numpy("Y", x), t_x)), steps(t_x)),
        "L_id_Y": mse(y, g_numpy("Y", y)).mean(),
        "L_rr_X": mse(x[:, 1:], P_SCALE["X"] * x[:, :-1]).mean(),
        "L_rr_Y": mse(yz[:, 1:], P_SCALE["Y"] * yz[:, :-1]).mean()})
    v_y = (real(d_gy[:, -1, 0]) + real(d_gy[:, -1, 1])).mean()
    d_frame_y = (real(d_y[..., 0]).mean() + real(style[:, 1]).mean() + fake(d_gy[..., 0]).mean()
                 + fake(d_neg[..., 0]).mean())
    d_video_y = (real(d_y[:, -1, 0]).mean() + real(d_z[:, -1, 1]).mean()
                 + fake(d_gy[:, -1, 0]).mean() + fake(d_gy[:, -1, 1]).mean()
                 + fake(d_neg[:, -1, 0]).mean())
    expected["L_v"] = v_x + v_y
    for name, value in expected.items():
        assert out[name] == pytest.approx(value, rel=1e-5), name
    lam = lambda k: weights[k]
    assert out["G_loss"] == pytest.approx(
        expected["L_g_X"] + expected["L_g_Y"] + lam("lambda_v") * expected["L_v"]
        + lam("lambda_rcy") * expected["L_rc_Y"] + lam("lambda_rcx") * expected["L_rc_X"]
        + lam("lambda_id") * (expected["L_id_X"] + expected["L_id_Y"])
        + lam("lambda_rx") * expected["L_rr_X"] + lam("lambda_ry") * expected["L_rr_Y"], rel=1e-5)
    assert out["D_loss"] == pytest.approx(
        d_loss_x + d_frame_y + lam("lambda_v") * d_video_y, rel=1e-5)


@pytest.mark.parametrize("frame_terms", ["prefix", "single"])
@pytest.mark.parametrize("d", ["X", "Y"])
def test_discriminator_losses_are_the_real_side_of_d_and_the_generated_side_of_the_other(
        graph, rng, d, frame_terms):
    other = rl.OTHER[d]
    clips = rng.uniform(-1, 1, (4, T, H, W, 3)).astype(np.float32)
    t = np.array([2, 4, 3, 4], np.int32)                # rows 0, 2: frame terms; 1, 3: video
    is_z = np.array([False, False, True, True]) & (d == "Y")
    z_hat = rng.uniform(-1, 1, (3, H, W, 3)).astype(np.float32)
    inputs = {"clips": clips, "t": t, "style": is_z, "z_hat": z_hat}
    frame, video = run(rl.discriminator_losses(
        stub_networks(), d, {k: tf.constant(v) for k, v in inputs.items()}, flags(frame_terms)))

    real, fake = d_numpy(d, clips), d_numpy(other, g_numpy(other, clips))
    real_video, fake_video = real[:, -1], fake[:, -1]             # video rows have t = T
    if frame_terms == "single":        # frame j judged alone, as a clip of length 1
        real = np.concatenate([d_numpy(d, clips[:, j:j + 1]) for j in range(T)], axis=1)
        fake = np.concatenate([d_numpy(other, g_numpy(other, clips[:, j:j + 1]))
                               for j in range(T)], axis=1)
    frame_mask = (np.arange(T)[None] < t[:, None]) & (t < T)[:, None]
    video_mask, y_row = (t == T).astype(float), (~is_z).astype(float)
    style = softplus(2.0 * z_hat.mean(axis=(1, 2, 3))).mean()   # -log sigmoid(D_Y,1 = -2 mean)
    expected_frame = (masked_mean(softplus(-real[..., 0]), frame_mask * y_row[:, None]) + style
                      + masked_mean(softplus(fake[..., 0]), frame_mask))
    expected_video = (masked_mean(softplus(-real_video[:, 0]), video_mask * y_row)
                      + masked_mean(softplus(fake_video[:, 0]), video_mask))
    if d == "X":       # D_Y's style head judges G_Y(x) too (eq. 9)
        expected_video += masked_mean(softplus(fake_video[:, 1]), video_mask)
    else:              # Z clips: real for D_Y,1 (eq. 9)
        expected_video += masked_mean(softplus(-real_video[:, 1]), video_mask * is_z)
    assert frame == pytest.approx(expected_frame, rel=1e-5)
    assert video == pytest.approx(expected_video, rel=1e-5)


@pytest.mark.parametrize("frame_terms", ["prefix", "single"])
@pytest.mark.parametrize("d", ["X", "Y"])
def test_collect_takes_the_greedy_or_random_action_and_rewards_exp_minus_its_loss(
        graph, rng, d, frame_terms):
    other = rl.OTHER[d]
    B = 4
    s = rng.uniform(-1, 1, (B, T, H, W, 3)).astype(np.float32)
    p = np.array([1, 2, 3, 3], np.int32)                  # p + 1 = T: terminal
    greedy = np.array([True, False, True, False])
    random_a, a_true = (rng.uniform(-1, 1, (B, H, W, 3)).astype(np.float32) for _ in range(2))
    inputs = {"s": s, "p": p, "greedy": greedy, "random_a": random_a, "a_true": a_true}
    out = run(rl.collect(stub_networks(), d, {k: tf.constant(v) for k, v in inputs.items()},
                         flags(frame_terms)))

    last = s[np.arange(B), p - 1]                                     # frame p of each state
    a1 = P_SCALE[d] * last                                            # P_d(s)
    a2 = g_numpy(d, P_SCALE[other] * g_numpy(other, last))           # G_d(P_o(G_o(s)))
    q1, q2 = a1.mean(axis=(1, 2, 3)), a2.mean(axis=(1, 2, 3))
    a = np.where(greedy[:, None, None, None],
                 np.where((q1 >= q2)[:, None, None, None], a1, a2), random_a)
    video = s.copy()
    video[np.arange(B), p] = a
    video_logits = d_numpy(d, video)[np.arange(B), p]                 # D_d after s ⧺ a
    frame_logits = (video_logits if frame_terms == "prefix" else d_numpy(d, a[:, None])[:, 0])
    lam_r, lam_rc = ((WEIGHTS["lambda_rx"], WEIGHTS["lambda_rcx"]) if d == "X"
                     else (WEIGHTS["lambda_ry"], WEIGHTS["lambda_rcy"]))
    mse = lambda u, v: ((u - v) ** 2).mean(axis=(1, 2, 3))
    frame_loss = softplus(-frame_logits[:, 0]) + lam_r * mse(a, a_true) + lam_rc * mse(a2, a_true)
    video_loss = WEIGHTS["lambda_v"] * softplus(-video_logits).sum(axis=1)  # D_Y: both heads
    loss = np.where(p + 1 == T, video_loss, frame_loss)
    np.testing.assert_allclose(out["q1"], q1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["q2"], q2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["action"], a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["reward"], np.exp(-loss), rtol=1e-5)


@pytest.mark.parametrize("d", ["X", "Y"])
def test_ddpg_critic_regresses_to_the_target_networks_best_candidate_and_actor_maximizes_Q(
        graph, rng, d):
    other, gamma, B = rl.OTHER[d], 0.9, 3
    target_g = {"X": (0.3, -0.1), "Y": (0.6, 0.0)}          # μ' differs from μ
    target_p = {"X": 0.5, "Y": 0.4}
    s = rng.uniform(-1, 1, (B, T, H, W, 3)).astype(np.float32)
    p = np.array([1, 2, 3], np.int32)                          # the last: s ⧺ a is terminal
    a = rng.uniform(-1, 1, (B, H, W, 3)).astype(np.float32)
    r = np.array([0.2, 0.5, 0.7], np.float32)
    out = run(rl.ddpg_losses(
        stub_networks(), stub_networks(target_g, target_p, q_bias=1.0), d, tf.constant(s),
        tf.constant(p), tf.constant(a), tf.constant(r), gamma))

    mean = lambda v: v.mean(axis=(1, 2, 3))
    # Target candidates at s' = s ⧺ a read its last frame, a.
    a1_next = target_p[d] * a
    a2_next = target_g[d][0] * (target_p[other] * (target_g[other][0] * a + target_g[other][1])) \
        + target_g[d][1]
    q_next = np.maximum(mean(a1_next), mean(a2_next)) + 1.0
    y = r + gamma * np.where(p + 1 == T, 0.0, q_next)
    last = s[np.arange(B), p - 1]
    a1 = P_SCALE[d] * last
    a2 = g_numpy(d, P_SCALE[other] * g_numpy(other, last))
    assert out["critic_td"] == pytest.approx(np.mean((y - mean(a)) ** 2), rel=1e-5)
    assert out["actor_objective"] == pytest.approx(np.mean(mean(a1) + mean(a2)), rel=1e-5)
    assert out["q"] == pytest.approx(mean(a).mean(), rel=1e-5, abs=1e-6)


def test_temporal_negatives_replay_real_frames_out_of_order(graph):
    """First half forward and back; last half backward and forward; the clip
    one frame late and one frame early."""
    y = tf.constant(np.arange(8, dtype=np.float32)[None, :, None])      # frame t holds t
    first, last, late, early = run(objectives.temporal_negatives(y))
    assert first[0, :, 0].tolist() == [0, 1, 2, 3, 2, 1, 0, 1]      # all from frames 0..3
    assert last[0, :, 0].tolist() == [7, 6, 5, 4, 5, 6, 7, 6]       # all from frames 4..7
    assert late[0, :, 0].tolist() == [0, 0, 1, 2, 3, 4, 5, 6]       # one frame late
    assert early[0, :, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 7]      # one frame early
    assert len(run(objectives.temporal_negatives(y, shift=False))) == 2
    assert len(run(objectives.temporal_negatives(y, bounce=False))) == 2
