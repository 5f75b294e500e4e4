"""The generators' weight average: its arithmetic, the networks that read it,
and what eval and export restore."""
import numpy as np

from conftest import TINY_FILTERS
from rl_v2v_gan import checkpoints
from rl_v2v_gan.average import Average, stored_name
from rl_v2v_gan.networks import build_networks
from rl_v2v_gan.tf_compat import tf


def test_update_follows_the_warmed_up_decay(graph):
    """G_avg <- beta_n G_avg + (1 - beta_n) G with beta_n = min(decay, (1+n)/(10+n))."""
    v = tf.get_variable("G_Y/w", [3], initializer=tf.constant_initializer(1.0), use_resource=True)
    new = tf.placeholder(tf.float32, [3])
    step = v.assign(new)
    average = Average([v], decay=0.5)
    update = average.update([step])
    shadow = average.shadows["G_Y/w"][1]
    assert shadow.op.name == stored_name("G_Y/w") == "average/G_Y/w"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(average.reset)
        expected = np.ones(3)
        np.testing.assert_array_equal(sess.run(shadow), expected)
        for n, value in enumerate([[2.0, 0.0, 4.0], [3.0, 3.0, 3.0], [0.0, -1.0, 5.0],
                                   [1.0, 1.0, 1.0]]):
            sess.run(update, {new: value})
            beta = min(0.5, (1.0 + n) / (10.0 + n))
            expected = beta * expected + (1 - beta) * np.array(value)
            np.testing.assert_allclose(sess.run(shadow), expected, rtol=1e-6)
        assert sess.run(average.count) == 4
        sess.run(average.reset)                  # reset: the shadow is the variable again
        np.testing.assert_array_equal(sess.run(shadow), [1.0, 1.0, 1.0])


def test_network_under_the_getter_runs_the_shadows(graph, rng):
    """G_Y built under `Average.getter` computes what G_Y with the shadows' values
    computes, and not what the raw G_Y computes."""
    nets = build_networks(TINY_FILTERS, symbols=("G_Y",))
    clip = tf.constant(rng.uniform(-1, 1, (1, 2, 8, 8, 3)).astype(np.float32))
    raw = nets.G_Y(clip, is_training=False)
    variables = nets.G_Y.variables()
    average = Average(variables, decay=0.9)
    with tf.variable_scope(tf.get_variable_scope(), custom_getter=average.getter):
        averaged = nets.G_Y(clip, is_training=False)
    shadows = [average.shadows[v.op.name][1] for v in variables]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([s.assign(v * 0.5 + 0.1) for v, s in zip(variables, shadows)])
        out_raw, out_avg = sess.run([raw, averaged])
        sess.run([v.assign(s) for v, s in zip(variables, shadows)])
        np.testing.assert_allclose(sess.run(raw), out_avg, rtol=1e-5, atol=1e-6)
    assert np.abs(out_raw - out_avg).max() > 1e-3


def test_restorer_reads_the_average_under_its_stored_names(tmp_path, graph):
    """`checkpoints.restorer(stored_name=...)` fills each variable from the
    checkpoint's `average/<name>`."""
    v = tf.get_variable("G_X/w", [2], initializer=tf.constant_initializer(1.0), use_resource=True)
    average = Average([v], decay=0.9)
    prefix = str(tmp_path / "ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(average.shadows["G_X/w"][1].assign([7.0, 8.0]))
        tf.train.Saver().save(sess, prefix)
        saver, missing = checkpoints.restorer(prefix, [v], [v], stored_name=stored_name)
        assert missing == []
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(v), [7.0, 8.0])


def test_eval_and_export_take_the_average_where_the_checkpoint_has_one(tmp_path):
    """Eval restores `average/<name>` into each generator variable, and the
    export bundle stores those values under the generators' own names."""
    from test_evaluation import ARCH, SHAPE, flags
    from rl_v2v_gan import config, evaluation
    folder = tmp_path / "run"
    folder.mkdir()
    with tf.Graph().as_default():
        nets = build_networks(TINY_FILTERS, symbols=("G_X", "G_Y"))
        for net in (nets.G_X, nets.G_Y):
            net(tf.zeros((1,) + SHAPE), is_training=True)
        variables = nets.G_X.variables() + nets.G_Y.variables()
        average = Average(variables, decay=0.9)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([s.assign(tf.fill(tf.shape(s), 0.25)) for _, s in average.shadows.values()])
            tf.train.Saver().save(sess, str(folder / "rl_v2v_gan"), global_step=3,
                                  write_meta_graph=False)
    config.save_config(config.parse_args(["--mode", "train"] + ARCH), str(folder))
    with evaluation.load_generators(flags("--mode", "eval", "--checkpoint_dir",
                                          str(folder))) as generators:
        assert generators.averaged
        values = generators.session.run(generators.variables)
    assert all(np.all(v == 0.25) for v in values)
    bundle = evaluation.export(flags("--mode", "export", "--checkpoint_dir", str(folder),
                                     "--export_dir", str(tmp_path / "bundle")))
    stored = dict(tf.train.list_variables(bundle))
    assert not any(n.startswith("average/") for n in stored)
    kernel = tf.train.load_checkpoint(bundle).get_tensor("G_Y/out_proj/kernel")
    assert np.all(kernel == 0.25)
