"""FlatAdam against TensorFlow's own Adam."""
import numpy as np
import pytest

from rl_v2v_gan.optimizer import FlatAdam
from rl_v2v_gan.tf_compat import tf

SHAPES = [[3, 3, 11, 32], [32], [7, 5], [3, 3, 8, 16], [16], [4]]


def _train(make_optimizer, steps=30):
    """Variables after `steps` iterations of two `apply_gradients` of one
    optimizer (as Algorithm 1's per-domain updates share theirs), each in its
    own session call, at a decaying learning rate; the last variable gets no
    gradient."""
    rng = np.random.RandomState(0)
    init = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    targets = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        lr = 1e-2 * tf.clip_by_value(2.0 * (1.0 - tf.cast(step, tf.float32) / steps), 0.0, 1.0)
        vs = [tf.get_variable("v%d" % i, initializer=init[i], use_resource=True)
              for i in range(len(SHAPES))]
        loss = tf.add_n([tf.reduce_sum(tf.square(v - t) * tf.sin(v))
                         for v, t in zip(vs[:-1], targets)])
        grads = tf.gradients(loss, vs)
        assert grads[-1] is None
        opt = make_optimizer(lr)
        advance = tf.assign_add(step, 1)
        first = opt.apply_gradients(list(zip(grads[:3], vs[:3])))
        second = opt.apply_gradients(list(zip(grads[3:], vs[3:])))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):      # one call each: both advance the powers
                sess.run(first)
                sess.run(second)
                sess.run(advance)
            return sess.run(vs), init, [v.op.name for v in tf.global_variables()
                                        if v.op.name.startswith("Adam_G/")]


def test_flat_adam_is_tensorflows_adam_bit_for_bit():
    ours, init, names = _train(lambda lr: FlatAdam(lr, beta1=0.5, name="Adam_G"))
    theirs, _, _ = _train(lambda lr: tf.train.AdamOptimizer(lr, beta1=0.5))
    for a, b, start in zip(ours, theirs, init):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ours[0], init[0])            # it trained
    np.testing.assert_array_equal(ours[-1], init[-1])      # no gradient: left alone
    assert sorted(names) == ["Adam_G/beta1_power", "Adam_G/beta2_power", "Adam_G/v0_v1_v2/m",
                     "Adam_G/v0_v1_v2/v", "Adam_G/v3_v4/m", "Adam_G/v3_v4/v"]


def test_flat_adam_without_gradients_is_an_error():
    with tf.Graph().as_default():
        v = tf.get_variable("v", [2], use_resource=True)
        with pytest.raises(ValueError, match="Adam_D: no variable has a gradient"):
            FlatAdam(0.1, name="Adam_D").apply_gradients([(None, v)])
