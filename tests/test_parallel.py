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
        variables = lambda: nets.G_X.variables(True)
        results = parallel.towers(    # the training steps' path: towers, part gradients, mean
            lambda i: parallel.part_gradients([lambda: {"loss": tf.reduce_mean(tf.square(
                nets.G_X(i["x"], is_training=False) - i["x"]))}], {"loss": variables}),
            {"x": x}, devices, "t")
        pairs = parallel.average([grads["loss"] for _, grads in results])
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


def test_part_gradients_sum_to_the_gradient_of_the_summed_loss(graph, rng):
    """Parts differentiated one after the other (the pre-training step's three
    sides of eq. 10) give the gradient of their summed losses, and each part's
    forward ops wait for the previous part's gradients."""
    clips = tf.placeholder(tf.float32, [2, 3, 16, 16, 3])   # D_X's variables are created
    nets = build_networks(TINY_FILTERS)                      # in part 2: init needs no feed
    g_loss = lambda: tf.reduce_mean(tf.square(nets.G_X(clips) - clips))
    d_loss = lambda: tf.reduce_mean(nets.D_X(clips))
    parts = [lambda: {"loss": g_loss(), "metric": tf.constant(1.0)},
             lambda: {"loss": d_loss() + g_loss(), "metric": tf.constant(2.0)}]
    var_list = lambda: nets.G_X.variables(True) + nets.D_X.variables(True)
    before = set(tf.get_default_graph().get_operations())
    totals, grads = parallel.part_gradients(parts, {"loss": var_list})
    var_list = var_list()
    assert [v for _, v in grads["loss"]] == var_list and len(var_list) > 20
    second = [op for op in tf.get_default_graph().get_operations()
              if op not in before and op.name.startswith("D_X/") and op.control_inputs]
    expected = tf.gradients(g_loss() + d_loss() + g_loss(), var_list)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want, metric = sess.run([[g for g, _ in grads["loss"]], expected, totals["metric"]],
                                     {clips: rng.uniform(-1, 1, (2, 3, 16, 16, 3))})
    assert second, "the second part is not ordered after the first part's gradients"
    assert metric == 3.0
    for a, b, v in zip(got, want, var_list):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=v.name)


def test_inference_towers_take_any_batch_size(rng):
    """Algorithm 1's collect call: n states split over 2 or 3 towers (padded
    when n is not a multiple) give the single-device outputs, in order."""
    clips = rng.uniform(-1, 1, (5, 3, 16, 16, 3)).astype(np.float32)
    lengths = np.array([1, 3, 2, 2, 1], np.int32)
    with tf.Graph().as_default():
        nets = build_networks(TINY_FILTERS)
        inputs = {"s": tf.placeholder(tf.float32, [None, 3, 16, 16, 3]),
                  "p": tf.placeholder(tf.int32, [None])}
        fn = lambda i: {"y": nets.G_X(i["s"], lengths=i["p"], is_training=False),
                        "p": i["p"] * 10}
        outs = [parallel.towers_any_batch(fn, inputs, parallel.tower_devices(k, "cpu"), "c%d" % k)
                for k in (1, 2, 3)]
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 3})) as sess:
            sess.run(tf.global_variables_initializer())
            for n in (1, 2, 5):
                got = sess.run(outs, {inputs["s"]: clips[:n], inputs["p"]: lengths[:n]})
                for out in got[1:]:
                    assert out["y"].shape == (n, 3, 16, 16, 3)
                    np.testing.assert_array_equal(out["p"], lengths[:n] * 10)
                    np.testing.assert_allclose(out["y"], got[0]["y"], atol=1e-5)


def test_tower_devices_and_batch_divisibility():
    assert parallel.tower_devices(3, "cpu") == ["/cpu:0", "/cpu:1", "/cpu:2"]
    with pytest.raises(UserError, match="--batch_size .* divisible by --num_gpus"):
        parse_args(["--mode", "train", "--batch_size", "3", "--num_gpus", "2"])


def _free_ports(n):
    import socket
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.heavy
def test_local_cluster_trains_and_the_chief_checkpoint_loads(tmp_path):
    """1 parameter server + 2 workers on 127.0.0.1, in subprocesses, bounded in time."""
    import os
    import subprocess
    import sys
    from conftest import ROOT
    from rl_v2v_gan import checkpoints
    ps, w0, w1 = ["127.0.0.1:%d" % p for p in _free_ports(3)]
    common = [sys.executable, os.path.join(ROOT, "main.py"), "--mode", "train",
              "--ps_hosts", ps, "--worker_hosts", "%s,%s" % (w0, w1),
              "--data_dir", str(tmp_path / "data"), "--checkpoint_dir", str(tmp_path / "ckpt"),
              "--input_shape", "4", "16", "16", "3", "--filters", "4", "8", "8",
              "--batch_size", "2", "--epochs", "1", "--rl_epochs", "0", "--steps_per_epoch", "3",
              "--grappler", "off", "--recompute", "on"]   # "on" on parameter servers too
    procs = []
    try:
        procs.append(subprocess.Popen(common + ["--job_name", "ps"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        # The chief prepares the dataset first; the second worker then reads it.
        for index in (0, 1):
            procs.append(subprocess.Popen(common + ["--job_name", "worker", "--task_index",
                                                    str(index)],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        outputs = [p.communicate(timeout=600) for p in procs[1:]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs[1:], outputs):
        assert p.returncode == 0, err[-2000:]
    assert "saved" in outputs[0][0] and "epoch 1/1 pretrain" in outputs[1][0]
    latest = tf.train.latest_checkpoint(str(tmp_path / "ckpt"))
    assert latest is not None
    with tf.Graph().as_default():
        nets = build_networks((4, 8, 8))
        nets.G_Y(tf.zeros([1, 4, 16, 16, 3]))
        saver, _ = checkpoints.restorer(latest, tf.global_variables(), tf.global_variables())
        with tf.Session() as sess:
            saver.restore(sess, latest)
    assert int(checkpoints.read_variable(latest, "global_step")) >= 3


@pytest.mark.heavy
def test_two_tower_training_writes_a_checkpoint_that_single_device_eval_loads(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from conftest import ROOT
    main = [sys.executable, os.path.join(ROOT, "main.py")]
    common = ["--data_dir", str(tmp_path / "data"), "--checkpoint_dir", str(tmp_path / "ckpt"),
              "--grappler", "off", "--recompute", "off"]   # the cluster test above runs "on"
    out = subprocess.run(main + ["--mode", "train", "--num_gpus", "2", "--device", "cpu",
                                 "--input_shape", "4", "16", "16", "3", "--filters", "4", "8", "8",
                                 "--batch_size", "2", "--epochs", "1", "--rl_epochs", "0",
                                 "--steps_per_epoch", "2"] + common,
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run(main + ["--mode", "eval", "--eval_batches", "1", "--batch_size", "2",
                                 "--samples_dir", str(tmp_path / "samples")] + common,
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    with open(str(tmp_path / "ckpt" / "metrics.json")) as f:
        report = json.load(f)
    assert report["step"] == 2 and report["clips"] == 2    # both steps' towers saved once
    assert -1.0 <= report["metrics"]["ssim"] <= 1.0 and 0.0 < report["metrics"]["psnr"] < 100.0
    names = [name for name, _ in tf.train.list_variables(str(tmp_path / "ckpt"))]
    assert any(n.startswith("G_Y/") for n in names)       # one copy of each variable,
    assert not any("tower" in n for n in names), names    # shared by the towers


def test_tf_config_gives_the_cluster_the_flags_give(monkeypatch):
    from rl_v2v_gan import distributed
    train = ["--mode", "train", "--preset", "cpu"]
    flags = distributed.from_args(parse_args(train + [
        "--ps_hosts", "ps0:2222", "--worker_hosts", "w0:2222,w1:2222",
        "--job_name", "worker", "--task_index", "1"]))
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"ps": ["ps0:2222"], "worker": ["w0:2222", '
                       '"w1:2222"]}, "task": {"type": "worker", "index": 1}}')
    env = distributed.from_args(parse_args(train))
    assert (env.job_name, env.task_index) == (flags.job_name, flags.task_index) == ("worker", 1)
    assert env.spec.as_dict() == flags.spec.as_dict() == {"ps": ["ps0:2222"],
                                                          "worker": ["w0:2222", "w1:2222"]}
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["w0:2222"]}, "task": {}}')
    with pytest.raises(UserError, match="TF_CONFIG: expected cluster.ps"):
        distributed.from_args(parse_args(train))
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"ps": ["p:1"], "worker": ["w:1"]}, '
                       '"task": {"type": "worker", "index": 3}}')
    with pytest.raises(UserError, match="--task_index 3: the worker job has 1 task"):
        distributed.from_args(parse_args(train))
    monkeypatch.delenv("TF_CONFIG")
    assert distributed.from_args(parse_args(train)) is None
