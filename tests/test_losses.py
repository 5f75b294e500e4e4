"""Each loss of eq. (1)-(10) against a hand-computed value on tiny tensors."""
import numpy as np
import pytest

from rl_v2v_gan import losses
from rl_v2v_gan.tf_compat import tf


def softplus(v):
    return np.log1p(np.exp(v))


def c(value):
    return tf.constant(np.asarray(value, np.float32))


def run(tensors):
    with tf.Session() as sess:
        return sess.run(tensors)


def test_bce_and_masked_mean(graph):
    logits = c([[0.0, 2.0], [-1.0, 3.0]])
    mask = c([[1.0, 0.0], [1.0, 1.0]])
    full, masked, zero = run([losses.bce(logits, 1.0), losses.bce(logits, 0.0, mask),
                              losses.masked_mean(logits, tf.zeros([2, 2]))])
    assert full == pytest.approx(np.mean(softplus(-np.array([0, 2, -1, 3.0]))), rel=1e-6)
    assert masked == pytest.approx(np.mean(softplus(np.array([0, -1, 3.0]))), rel=1e-6)
    assert zero == 0.0


def test_L_g_X_eq2(graph):
    real = np.array([[[1.0], [2.0]]])           # D_X logits of x frames
    fake = np.array([[[-1.0], [0.5]], [[0.0], [3.0]]])   # of G_X(y), G_X(z) frames
    d, g = run(losses.L_g_X(c(real), c(fake)))
    assert d == pytest.approx(softplus(-real).mean() + softplus(fake).mean(), rel=1e-6)
    assert g == pytest.approx(softplus(-fake).mean(), rel=1e-6)


def test_L_g_Y_eq1_uses_domain_head_on_frames_and_style_head_on_images(graph):
    real = np.array([[[1.0, 9.0], [2.0, 9.0]]])          # head 1 must be ignored
    style = np.array([[9.0, -0.5], [9.0, 0.25]])          # head 0 must be ignored
    fake = np.array([[[0.5, 9.0], [-2.0, 9.0]]])
    mask = np.array([[1.0, 0.0]])
    d, g = run(losses.L_g_Y(c(real), c(style), c(fake),
                            c(mask), c(mask)))
    assert d == pytest.approx(softplus(-1.0) + softplus(-style[:, 1]).mean() + softplus(0.5),
                              rel=1e-6)
    assert g == pytest.approx(softplus(-0.5), rel=1e-6)


def test_L_rr_eq3_compares_prediction_t_with_frame_t_plus_1(graph):
    clip = np.zeros((1, 3, 1, 1, 1)); clip[0, :, 0, 0, 0] = [0.0, 1.0, 2.0]
    pred = np.zeros((1, 3, 1, 1, 1)); pred[0, :, 0, 0, 0] = [0.5, 1.0, 7.0]   # last unused
    full, prefix = run([losses.L_rr(c(clip), c(pred)),
                        losses.L_rr(c(clip), c(pred), tf.constant([2]))])
    assert full == pytest.approx(((1 - 0.5) ** 2 + (2 - 1.0) ** 2) / 2)
    assert prefix == pytest.approx((1 - 0.5) ** 2)    # prefix of 2 frames: one target


def test_L_rc_eq5_targets_frame_t_plus_1_or_all_frames_up_to_it(graph):
    clip = np.arange(2 * 3 * 2).reshape(2, 3, 1, 1, 2).astype(np.float32)
    back = np.zeros((2, 3, 1, 1, 2), np.float32)
    back[1, 0] = 1.0
    t = np.array([1, 2], np.int32)                         # frame t + 1 is clip[:, t] (0-based)
    nxt, every = run([losses.L_rc(c(clip), tf.constant(t), c(back)),
                      losses.L_rc(c(clip), tf.constant(t), c(back), frames="all")])
    assert nxt == pytest.approx(np.mean(np.concatenate([clip[0, 1], clip[1, 2]]) ** 2))
    error = np.mean((clip - back) ** 2, axis=(2, 3, 4))   # [2, 3]
    assert every == pytest.approx((error[0, :2].sum() + error[1].sum()) / 5)  # 2 + 3 frames
    with pytest.raises(ValueError, match="recycle frames"):
        losses.L_rc(c(clip), tf.constant(t), c(back), frames="last")


def test_L_vX_eq8_and_L_vY_eq9(graph):
    dx_real, dx_fake = np.array([[0.3]]), np.array([[-0.2], [1.0]])
    dy_real, dy_style, dy_fake = (np.array([[0.4, 9.0]]), np.array([[9.0, -0.7]]),
                                  np.array([[0.1, 0.6]]))
    vx, vy = run([losses.L_vX(c(dx_real), c(dx_fake)),
                  losses.L_vY(c(dy_real), c(dy_style), c(dy_fake))])
    assert vx.d_loss == pytest.approx(softplus(-0.3) + softplus(dx_fake).mean(), rel=1e-6)
    assert vx.g_loss == pytest.approx(softplus(-dx_fake).mean(), rel=1e-6)
    assert vy.d_loss == pytest.approx(softplus(-0.4) + softplus(0.7) + softplus(0.1)
                                      + softplus(0.6), rel=1e-6)
    assert vy.g_loss == pytest.approx(softplus(-0.1) + softplus(-0.6), rel=1e-6)


def test_total_eq10_weights(graph):
    names = ["L_g_X", "L_g_Y", "L_rr_X", "L_rr_Y", "L_rc_X", "L_rc_Y", "L_v", "L_id_X", "L_id_Y"]
    terms = {n: c(float(i + 1)) for i, n in enumerate(names)}
    weights = dict(lambda_rx=0.1, lambda_ry=0.2, lambda_rcx=0.3, lambda_rcy=0.4, lambda_v=2.0,
                   lambda_id=0.5)
    value = run(losses.total(terms, weights))
    assert value == pytest.approx(1 + 2 + 0.1 * 3 + 0.2 * 4 + 0.3 * 5 + 0.4 * 6 + 2.0 * 7
                                  + 0.5 * (8 + 9))


def test_L_id_is_the_mean_squared_change(graph):
    clip = np.zeros((2, 3, 2, 2, 3), np.float32)
    out = clip.copy()
    out[1, 2] = 0.5
    assert run(losses.L_id(c(clip), c(out))) == pytest.approx(0.25 * 12 / clip.size)


def test_adversarial_losses_are_stable_for_large_logits(graph):
    d, g = run(losses.L_vX(c([[1e4]]), c([[-1e4]])))
    assert np.isfinite(d) and np.isfinite(g) and g == pytest.approx(1e4)


def test_one_side_of_an_equation_and_the_per_sample_generator_cost(graph):
    """Algorithm 1's D step takes one side of an equation; the two sides add up
    to the whole, and G's per-sample cost averages to its g_loss."""
    real, style, fake = (np.array([[0.4, 9.0], [-1.0, 9.0]]), np.array([[9.0, -0.7]]),
                         np.array([[0.1, 0.6], [2.0, -3.0]]))
    mask = np.array([1.0, 0.0])
    whole = losses.L_vY(c(real), c(style), c(fake), c(mask), None, c(mask))
    real_side = losses.L_vY(d_y_real=c(real), d_y_style=c(style), mask_real=c(mask))
    fake_side = losses.L_vY(d_y_fake=c(fake), mask_fake=c(mask))
    cost = losses.generator_cost("L_vY", c(fake))
    whole, real_side, fake_side, cost = run([whole, real_side, fake_side, cost])
    assert real_side.d_loss + fake_side.d_loss == pytest.approx(whole.d_loss, rel=1e-6)
    assert real_side.d_loss == pytest.approx(softplus(-0.4) + softplus(0.7), rel=1e-6)
    assert real_side.g_loss == 0.0 and fake_side.g_loss == pytest.approx(whole.g_loss)
    np.testing.assert_allclose(cost, softplus(-fake).sum(axis=1), rtol=1e-6)
    assert whole.g_loss == pytest.approx(cost[0], rel=1e-6)       # masked: the first clip only
