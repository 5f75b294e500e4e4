"""Data-parallel towers on virtual CPU devices."""
import numpy as np
import pytest

from conftest import TINY_FILTERS
from rl_v2v_gan import parallel
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.config import parse_args
from rl_v2v_gan.networks import build_networks
from rl_v2v_gan.tf_compat import tf


def _averaged_gradients(num_towers, clips):
    """Tower-averaged gradients of an L2 loss on G_X with inference-mode BN."""
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        nets = build_networks(TINY_FILTERS)
        devices = parallel.tower_devices(num_towers, "cpu")
        x = tf.placeholder(tf.float32, [None] + list(clips.shape[1:]))
        losses = [r["loss"] for r in parallel.towers(
            lambda i: {"loss": tf.reduce_mean(tf.square(
                nets.G_X(i["x"], is_training=False) - i["x"]))}, {"x": x}, devices, "t")]
        opt = tf.train.GradientDescentOptimizer(1.0)
        pairs = parallel.average_gradients(opt, losses, nets.G_X.variables(True), devices)
        config = tf.ConfigProto(device_count={"CPU": 4})
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            ops = {op.device for op in tf.get_default_graph().get_operations() if op.device}
            return sess.run([g for g, _ in pairs], {x: clips}), ops


@pytest.mark.parametrize("towers", [2, 4])
def test_averaged_tower_gradients_equal_single_tower_gradient(rng, towers):
    clips = rng.uniform(-1, 1, (4, 3, 16, 16, 3)).astype(np.float32)
    single, _ = _averaged_gradients(1, clips)
    multi, devices = _averaged_gradients(towers, clips)
    assert {"/device:CPU:%d" % i for i in range(towers)} <= devices
    for a, b in zip(single, multi):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_tower_devices_and_batch_divisibility():
    assert parallel.tower_devices(3, "cpu") == ["/cpu:0", "/cpu:1", "/cpu:2"]
    with pytest.raises(UserError, match="--batch_size .* divisible by --num_gpus"):
        parse_args(["--mode", "train", "--batch_size", "3", "--num_gpus", "2"])
