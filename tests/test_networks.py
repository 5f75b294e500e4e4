import contextlib

import numpy as np
import pytest

from conftest import TINY_FILTERS
from rl_v2v_gan.networks import SYMBOLS, build_networks
from rl_v2v_gan.recompute import Recompute
from rl_v2v_gan.tf_compat import tf

H = W = 16


def _build_all(T):
    nets = build_networks(TINY_FILTERS)
    clip = tf.placeholder(tf.float32, [None, T, H, W, 3])
    action = tf.placeholder(tf.float32, [None, H, W, 3])
    out = {s: getattr(nets, s)(clip) for s in ("G_X", "G_Y", "P_X", "P_Y", "D_X", "D_Y")}
    out.update({s: getattr(nets, s)(clip, action) for s in ("Q_X", "Q_Y")})
    return nets, clip, action, out


@pytest.mark.parametrize("T", [1, 4])
def test_output_shapes_with_unknown_batch(graph, rng, T):
    nets, clip, action, out = _build_all(T)
    expected = {"G_X": [None, T, H, W, 3], "G_Y": [None, T, H, W, 3], "P_X": [None, T, H, W, 3],
                "P_Y": [None, T, H, W, 3], "D_X": [None, 1], "D_Y": [None, 2],
                "Q_X": [None], "Q_Y": [None]}
    assert {s: out[s].shape.as_list() for s in out} == expected
    feed = {clip: rng.uniform(-1, 1, (3, T, H, W, 3)), action: rng.uniform(-1, 1, (3, H, W, 3))}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(out, feed)
    for s in ("G_X", "G_Y", "P_X", "P_Y"):
        assert values[s].shape == (3, T, H, W, 3)
        assert np.abs(values[s]).max() < 1.0
    assert values["D_Y"].shape == (3, 2)
    assert values["Q_X"].shape == (3,)


def test_d_y_heads_are_two_separate_outputs_and_q_is_relu(graph, rng):
    """D_Y's logit k (0: target domain, 1: target style) is column k of its last
    FC layer: each head's gradient reaches its own column only. Q is ReLU'd."""
    nets, clip, action, out = _build_all(4)
    kernel, = [v for v in nets.D_Y.variables() if v.op.name == "D_Y/fc_2/kernel"]
    grads = [tf.gradients(tf.reduce_sum(out["D_Y"][:, k]), kernel)[0] for k in (0, 1)]
    relus = {s: out[s].op.inputs[0] for s in ("Q_X", "Q_Y")}   # Q = relu(pre)[:, 0]
    assert {r.op.type for r in relus.values()} == {"Relu"}
    q_pre = {s: r.op.inputs[0][:, 0] for s, r in relus.items()}
    feed = {clip: rng.uniform(-1, 1, (8, 4, H, W, 3)), action: rng.uniform(-1, 1, (8, H, W, 3))}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        logits, (g0, g1), q, pre = sess.run([out["D_Y"], grads, {s: out[s] for s in q_pre},
                                             q_pre], feed)
    assert logits.shape == (8, 2) and not np.allclose(logits[:, 0], logits[:, 1])
    assert np.abs(g0[:, 0]).max() > 0 and not g0[:, 1].any()
    assert np.abs(g1[:, 1]).max() > 0 and not g1[:, 0].any()
    for s in q_pre:
        np.testing.assert_array_equal(q[s], np.maximum(pre[s], 0.0))
        assert (q[s] >= 0).all()


def test_variable_scopes_are_the_eight_symbols(graph):
    _build_all(2)
    scopes = {v.name.split("/")[0] for v in tf.global_variables()}
    assert scopes == set(SYMBOLS)


def test_gradient_reaches_every_variable_of_G_X(graph, rng):
    nets = build_networks(TINY_FILTERS)
    clip = tf.placeholder(tf.float32, [None, 3, H, W, 3])
    loss = tf.reduce_mean(tf.square(nets.G_X(clip) - clip))
    variables = nets.G_X.variables(trainable_only=True)
    grads = tf.gradients(loss, variables)
    assert len(variables) > 10 and all(g is not None for g in grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(grads, {clip: rng.uniform(-1, 1, (2, 3, H, W, 3))})
    for v, g in zip(variables, values):
        assert np.abs(g).max() > 0, v.name


def test_l2_regularization_is_collected_per_network(graph):
    nets = build_networks(TINY_FILTERS, l2=0.001)
    nets.G_Y(tf.zeros([1, 2, H, W, 3]))
    reg = nets.G_Y.regularization_loss()
    kernels = [v for v in nets.G_Y.variables(True) if "kernel" in v.name]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = sum(0.001 * 0.5 * np.sum(k ** 2) for k in sess.run(kernels))
        np.testing.assert_allclose(sess.run(reg), expected, rtol=1e-5)


def test_lengths_give_the_same_result_as_the_unpadded_prefix(graph, rng):
    nets = build_networks(TINY_FILTERS)
    full = tf.placeholder(tf.float32, [None, 4, H, W, 3])
    lengths = tf.placeholder(tf.int32, [None])
    padded = nets.D_X(full, lengths=lengths)
    prefix = nets.D_X(full[:, :2])
    clip = rng.uniform(-1, 1, (3, 4, H, W, 3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([padded, prefix], {full: clip, lengths: [2, 2, 2]})
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("symbol", ["D_X", "D_Y"])
def test_per_step_logits_are_causal_and_end_in_the_video_logits(graph, rng, symbol):
    """`steps=True` (--frame_terms prefix): the output at step t is D on the
    prefix of t + 1 frames, whatever follows; the last valid step is the
    clip's logits."""
    D = getattr(build_networks(TINY_FILTERS), symbol)
    full = tf.placeholder(tf.float32, [None, 4, H, W, 3])
    lengths = tf.placeholder(tf.int32, [None])
    steps = D(full, lengths=lengths, steps=True, is_training=False)
    prefixes = [D(full[:, :t + 1], is_training=False) for t in range(4)]
    video = D(full, lengths=lengths, is_training=False)
    clip = rng.uniform(-1, 1, (3, 4, H, W, 3))
    changed = clip.copy()
    changed[:, 2:] = rng.uniform(-1, 1, (3, 2, H, W, 3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want, last = sess.run([steps, prefixes, video], {full: clip, lengths: [4, 2, 3]})
        early = sess.run(steps, {full: changed, lengths: [4, 2, 3]})
    assert got.shape == (3, 4, 2 if symbol == "D_Y" else 1)
    for t in range(4):
        np.testing.assert_allclose(got[:, t], want[t], atol=1e-5)
    np.testing.assert_allclose(last, got[[0, 1, 2], [3, 1, 2]], atol=1e-5)
    np.testing.assert_allclose(early[:, :2], got[:, :2], atol=1e-5)   # frames 3, 4 changed
    assert np.abs(early[:, 2:] - got[:, 2:]).max() > 1e-4


def test_h_w_not_divisible_by_8_is_a_clear_error(graph):
    """Graph code raises ValueError; the flag itself is checked in config (test_config)."""
    nets = build_networks(TINY_FILTERS)
    with pytest.raises(ValueError, match="G_X input: H and W must be divisible by 8"):
        nets.G_X(tf.zeros([1, 2, 12, 16, 3]))


def test_two_graphs_in_one_process(rng):
    results = []
    for _ in range(2):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            nets = build_networks(TINY_FILTERS)
            out = nets.G_Y(tf.constant(np.ones((1, 2, H, W, 3), np.float32)))
            assert {v.name.split("/")[0] for v in tf.global_variables()} == {"G_Y"}
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                results.append(sess.run(out))
    np.testing.assert_allclose(results[0], results[1])


@pytest.mark.heavy
@pytest.mark.parametrize("in_order", [False, True])
def test_recomputed_calls_give_the_same_gradients_without_repeating_updates(graph, rng, in_order):
    """`recompute` (activation checkpointing) changes memory, not math:
    G, P, D and Q calls with padded prefixes, the same variables, equal
    gradients; batch-norm updates are created by the first forward only; two
    losses through one call share a single recomputation. In a
    `Recompute.chain()` block each recomputation waits for the gradients of
    the one before (4 calls: 3 waits)."""
    recompute = Recompute()
    plain, remat = build_networks(TINY_FILTERS), build_networks(TINY_FILTERS, recompute=recompute)
    x = tf.constant(rng.uniform(-1, 1, (2, 4, H, W, 3)), tf.float32)
    a = tf.constant(rng.uniform(-1, 1, (2, H, W, 3)), tf.float32)
    p = tf.constant([2, 3])

    def losses(n):
        g = n.G_X(x)
        d = n.D_X(g)
        return (tf.reduce_mean(d) + tf.reduce_mean(tf.square(n.P_Y(g, lengths=p)))
                + tf.reduce_mean(n.Q_X(g, a, lengths=p)), tf.reduce_mean(tf.square(d)))

    updates = lambda: len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    (g_plain, d_plain), before = losses(plain), updates()
    block = recompute.chain() if in_order else contextlib.suppress()
    with block:
        g_remat, d_remat = losses(remat)
    per_forward = updates() - before
    # Ops that run convolutions: Conv2D, and the ConvLSTM's graph-function calls.
    convs = lambda: sum(o.type in ("Conv2D", "PartitionedCall", "StatefulPartitionedCall")
                        for o in tf.get_default_graph().get_operations())
    g_vars, d_vars = tf.trainable_variables(), remat.D_X.variables(trainable_only=True)

    def gradients(g_loss, d_loss):
        """Both gradients, and the convolution ops the second one adds."""
        grads = tf.gradients(g_loss, g_vars)
        n = convs()
        return grads + tf.gradients(d_loss, d_vars), convs() - n

    grads_plain, second_plain = gradients(g_plain, d_plain)
    grads_remat, second_remat = gradients(g_remat, d_remat)
    waits = [o for o in tf.get_default_graph().get_operations()
             if o.type == "Identity" and len(o.control_inputs) == 2]
    assert len(waits) == (3 if in_order else 0)
    assert per_forward == before and updates() == 2 * before     # none from the recomputation
    assert second_remat == second_plain > 0    # D_X's second gradient: no new forward
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want, got = sess.run([grads_plain, grads_remat])
    assert len(want) == len(got) and all(w is not None for w in want)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_d_norm_none_judges_each_clip_on_its_own(graph, rng):
    """--d_norm none: no batch norm in D_X, D_Y (the generators keep theirs), so
    in a training-mode call D's output for one clip does not depend on the
    other clips of the batch; with batch norm it does."""
    plain = build_networks(TINY_FILTERS, d_norm="none")
    clip = tf.placeholder(tf.float32, [None, 4, H, W, 3])
    out = plain.D_Y(clip, steps=True)
    plain.G_Y(clip)
    names = [v.op.name for v in tf.global_variables()]
    assert not [n for n in names if n.startswith("D_Y/") and "/bn/" in n]
    assert [n for n in names if n.startswith("G_Y/") and "/bn/" in n]
    with tf.variable_scope("normed"):
        normed = build_networks(TINY_FILTERS, d_norm="batch").D_Y(clip, steps=True)
    batch = rng.uniform(-1, 1, (3, 4, H, W, 3))
    other = np.concatenate([batch[:1], rng.uniform(-1, 1, (2, 4, H, W, 3))])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = [sess.run([out, normed], {clip: b}) for b in (batch, other)]
    np.testing.assert_allclose(first[0][0][0], first[1][0][0], atol=1e-5)
    assert np.abs(first[0][1][0] - first[1][1][0]).max() > 1e-3


def test_output_filters_widen_the_last_conv_lstm(graph):
    """--output_filters N: G's last ConvLSTM has N channels, projected to RGB."""
    G = build_networks(TINY_FILTERS, output_filters=5).G_Y
    out = G(tf.zeros([2, 4, H, W, 3]), is_training=False)
    shapes = {v.op.name: v.shape.as_list() for v in G.variables()}
    assert shapes["G_Y/out_conv_lstm/kernel"][-1] == 4 * 5
    assert shapes["G_Y/out_proj/kernel"] == [1, 1, 5, 3]
    assert out.shape.as_list() == [2, 4, H, W, 3]



def test_spectral_normalized_divides_by_the_largest_singular_value(graph, rng):
    """ops.spectral_normalized: the kernel as a [-1, outputs] matrix ends with
    its largest singular value near 1 (power iteration: within 15%), for
    kernels of any scale, and the direction of the kernel is kept."""
    from rl_v2v_gan import ops
    kernel = rng.randn(3, 3, 12, 16).astype(np.float32)
    normalized = [ops.spectral_normalized(tf.constant(kernel * s)) for s in (0.01, 1.0, 30.0)]
    with tf.Session() as sess:
        values = sess.run(normalized)
    for v in values:
        sigma = np.linalg.svd(v.reshape(-1, 16), compute_uv=False)[0]
        assert 1.0 <= sigma < 1.15
        np.testing.assert_allclose(v / np.abs(v).max(), kernel / np.abs(kernel).max(), atol=1e-5)


def test_d_norm_spectral_makes_d_blind_to_the_scale_of_its_kernels(graph, rng):
    """--d_norm spectral: every kernel of D_X, D_Y is read spectrally
    normalized, so scaling one of D's stored kernels leaves D's output
    unchanged (without it, the output moves); no batch norm in D, and the
    stored variables are the same as with --d_norm none (checkpoints load)."""
    clip = tf.placeholder(tf.float32, [None, 4, H, W, 3])
    outputs = {}
    for norm in ("spectral", "none"):
        with tf.variable_scope(norm):
            nets = build_networks(TINY_FILTERS, d_norm=norm, symbols=("D_Y",))
            outputs[norm] = nets.D_Y(clip, steps=True)
    names = {norm: sorted(v.op.name[len(norm) + 1:] for v in tf.global_variables()
                          if v.op.name.startswith(norm + "/")) for norm in outputs}
    assert names["spectral"] == names["none"]
    assert not [n for n in names["spectral"] if "/bn/" in n]
    kernels = {norm: [v for v in tf.global_variables()
                      if v.op.name.startswith(norm + "/") and v.op.name.endswith("fc_1/kernel")][0]
               for norm in outputs}
    feed = {clip: rng.uniform(-1, 1, (2, 4, H, W, 3))}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(outputs, feed)
        sess.run([k.assign(k * 5.0) for k in kernels.values()])
        after = sess.run(outputs, feed)
    np.testing.assert_allclose(after["spectral"], before["spectral"], rtol=1e-4, atol=1e-6)
    assert np.abs(after["none"] - before["none"]).max() > 1e-3


def test_d_augment_changes_only_training_mode_calls_of_the_discriminators(graph, rng):
    """--d_augment on: D_X, D_Y see `ops.diff_augment` of training-mode
    inputs (random: two runs differ); inference calls (Algorithm 1's
    rewards) and the generators are untouched."""
    clip = tf.constant(rng.uniform(-1, 1, (2, 2, 8, 8, 3)).astype(np.float32))
    nets = build_networks(TINY_FILTERS, d_augment="on", symbols=("G_X", "D_Y"))
    train, infer, g = nets.D_Y(clip), nets.D_Y(clip, is_training=False), nets.G_X(clip)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t1, i1, g1 = sess.run([train, infer, g])
        t2, i2, g2 = sess.run([train, infer, g])
    assert not np.allclose(t1, t2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(g1, g2)
