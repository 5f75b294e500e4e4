import numpy as np
import pytest

from rl_v2v_gan import rl
from rl_v2v_gan.tf_compat import tf

SHAPE = (3, 2, 2, 3)


def _transitions(n, first, T=3):
    states = np.full((n, T, 2, 2, 3), 0, np.uint8)
    for i in range(n):
        states[i, 0] = first + i
    return (states, np.arange(n) % 2 + 1, np.zeros((n, 2, 2, 3)), first + np.arange(n, dtype=float),
            np.zeros((n, 2, 2, 3), np.uint8))


def test_replay_buffer_is_fifo_with_fixed_capacity():
    buf = rl.ReplayBuffer(3, SHAPE)
    buf.add(*_transitions(2, 0), domain="X")
    assert len(buf) == 2 and buf.count("X") == 2 and buf.count("Y") == 0
    buf.add(*_transitions(3, 10), domain="Y")          # overwrites the two oldest
    assert len(buf) == 3 and buf.count("X") == 0 and buf.count("Y") == 3
    assert sorted(buf.rewards.tolist()) == [10.0, 11.0, 12.0]
    buf.add(*_transitions(1, 20), domain="X")           # overwrites the oldest (10)
    assert sorted(buf.rewards.tolist()) == [11.0, 12.0, 20.0]
    assert buf.states.dtype == np.uint8 and buf.states.shape == (3,) + SHAPE


def test_replay_buffer_samples_only_the_asked_domain():
    buf = rl.ReplayBuffer(10, SHAPE)
    buf.add(*_transitions(4, 0), domain="X")
    buf.add(*_transitions(3, 100), domain="Y")
    rng = np.random.RandomState(0)
    sample = buf.sample(50, "Y", rng)
    assert set(sample["rewards"].tolist()) == {100.0, 101.0, 102.0}   # all of them, no X
    assert sample["states"].shape == (50,) + SHAPE
    np.testing.assert_array_equal(sample["states"][:, 0, 0, 0, 0], sample["rewards"].astype(int))
    with pytest.raises(ValueError):
        rl.ReplayBuffer(2, SHAPE).sample(1, "X", rng)


def test_soft_update_moves_exactly_tau_of_the_gap(graph):
    source = [tf.Variable([1.0, 2.0]), tf.Variable([[10.0]])]
    target = [tf.Variable([0.0, 0.0]), tf.Variable([[0.0]])]
    soft = rl.update_target(target, source, 0.25)
    hard = rl.update_target(target, source, 1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(soft)
        a, b = sess.run(target)
        np.testing.assert_allclose(a, [0.25, 0.5]); np.testing.assert_allclose(b, [[2.5]])
        sess.run(soft)
        np.testing.assert_allclose(sess.run(target[0]), [0.25 + 0.25 * 0.75, 0.5 + 0.25 * 1.5])
        sess.run(hard)
        np.testing.assert_allclose(sess.run(target[1]), [[10.0]])


def test_update_target_validates_its_arguments(graph):
    a, b = tf.Variable([1.0]), tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        rl.update_target([a], [b], 0.5)
    with pytest.raises(ValueError, match="length"):
        rl.update_target([a], [a, b], 0.5)
    with pytest.raises(ValueError, match="tau"):
        rl.update_target([a], [a], 0.0)


def test_critic_target_masks_terminal_transitions(graph):
    y = rl.critic_target(tf.constant([1.0, 0.5, 0.2]), tf.constant([False, True, False]),
                         tf.constant([2.0, 100.0, 4.0]), 0.9)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y), [1.0 + 0.9 * 2.0, 0.5, 0.2 + 0.9 * 4.0], rtol=1e-6)


def test_reward_is_a_decreasing_map_of_the_loss(graph):
    with tf.Session() as sess:
        r = sess.run(rl.reward_from_loss(tf.constant([0.0, 0.5, 3.0])))
    np.testing.assert_allclose(r, np.exp(-np.array([0.0, 0.5, 3.0])), rtol=1e-6)
    assert (np.diff(r) < 0).all() and (r > 0).all()


def test_domain_of_membership():
    assert [rl.domain_of(m) for m in "XYZ"] == ["X", "Y", "Y"]
