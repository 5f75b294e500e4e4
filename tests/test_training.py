"""Algorithm 1 in the training graph, and the train command end to end."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT
from rl_v2v_gan import checkpoints, data, evaluation, monitor, video_io
from rl_v2v_gan.config import load_config, parse_args, save_config
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.networks import build_networks
from rl_v2v_gan.tf_compat import tf
from rl_v2v_gan.training import Interrupt, Trainer

# --recompute off (what "auto" gives at this size): recomputation only costs time
# here; the iteration test below, test_networks and test_parallel cover "on".
TINY = ["--input_shape", "4", "32", "32", "3", "--batch_size", "2", "--filters", "8", "16", "32",
        "--grappler", "off", "--recompute", "off"]


def _args(tmp_path, *extra):
    return ["--data_dir", str(tmp_path / "data"), "--checkpoint_dir", str(tmp_path / "ckpt")] + \
        TINY + list(extra)


def _values(sess, variables):
    """Values by name, in one session call (each distinct fetch of a large graph
    costs a pruning pass)."""
    return dict(zip([v.op.name for v in variables], sess.run(list(variables))))


@pytest.mark.heavy
def test_algorithm_1_iterations_update_G_P_D_Q_and_move_targets_by_tau(tmp_path):
    """Each iteration trains Q_d, D and the policy μ (through the actor), moves
    the targets by tau and the generators' weight average with the policy."""
    # Algorithm 1 from step 0, as after pre-training.
    args = parse_args(["--mode", "train", "--tau", "0.25", "--sigma1", "0", "--pretrain_epochs",
                       "0"] + _args(tmp_path, "--recompute", "on"))
    sampler = data.Sampler(data.ensure_dataset(args), seed=0)
    trainer = Trainer(args, "rl", sampler, Interrupt())
    sess = trainer.sess
    targets = trainer.g.target_variables
    source_of = {t.op.name: s for t, s in zip(targets, trainer.g.target_sources)}
    with trainer.graph.as_default():
        trainable = [v for v in tf.trainable_variables() if v not in set(targets)]  # μ, Q, D
    targets_before = _values(sess, targets)
    sources = _values(sess, source_of.values())
    for name, value in targets_before.items():     # hard copy at start: μ' = μ, Q' = Q
        np.testing.assert_array_equal(value, sources[source_of[name].op.name])

    def iteration(membership, seed):
        """One iteration; the networks it changed; targets checked against tau."""
        before, old_targets = _values(sess, trainable), _values(sess, targets)
        metrics = trainer.rl_step((membership, 0), np.random.RandomState(seed))
        after = _values(sess, trainable)
        changed = {n.split("/")[0] for n in before if not np.array_equal(before[n], after[n])}
        sources, new_targets = _values(sess, source_of.values()), _values(sess, targets)
        for name, old in old_targets.items():
            expected = args.tau * sources[source_of[name].op.name] + (1 - args.tau) * old
            np.testing.assert_allclose(new_targets[name], expected, rtol=1e-5, atol=1e-6,
                                       err_msg=name)
        moved = {n.split("/")[0] for n in old_targets
                 if not np.allclose(old_targets[n], new_targets[n])}
        return metrics, changed, moved

    shadows = trainer.g.average.variables
    averages = _values(sess, shadows)
    # Domain X: Q_X, D and the whole policy; μ' and Q_X' follow.
    metrics, changed, moved = iteration("X", 0)
    assert len(trainer.algorithm1.buffer) == args.batch_size and metrics["replayed"] == 0
    assert changed == {"G_X", "G_Y", "P_X", "P_Y", "D_X", "D_Y", "Q_X"}
    assert moved == {"target_G_X", "target_G_Y", "target_P_X", "target_P_Y", "target_Q_X"}
    after = _values(sess, shadows)
    assert {n.split("/")[1] for n in after if n != "average/count"
            and not np.array_equal(after[n], averages[n])} == {"G_X", "G_Y"}
    # Domain Y (a Z video): Q_Y, D and the policy again.
    algorithm1 = trainer.algorithm1    # σ1 = 1 draws every tuple from B when it can
    algorithm1.args = algorithm1.args.replace(sigma1=1.0)
    metrics, changed, moved = iteration("Z", 1)
    assert metrics["replayed"] == 0                      # no Y-domain tuple yet in B
    assert changed == {"G_X", "G_Y", "P_X", "P_Y", "D_X", "D_Y", "Q_Y"}
    assert {"target_G_X", "target_G_Y", "target_P_X", "target_P_Y", "target_Q_Y"} <= moved
    metrics, _, _ = iteration("Y", 2)
    assert metrics["replayed"] == args.batch_size
    trainer.close()


def _main(*argv, **kwargs):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py")] + list(argv),
                          capture_output=True, text=True, cwd=ROOT, **kwargs)


def _steps(ckpt):
    return sorted(int(f.split("-")[-1].split(".")[0]) for f in os.listdir(ckpt)
                  if f.endswith(".index"))


@pytest.mark.heavy
def test_prepare_train_resume_end_to_end(tmp_path):
    common = _args(tmp_path)
    out = _main("--mode", "prepare_data", *common)
    assert out.returncode == 0, out.stderr
    train = ["--mode", "train", "--epochs", "2", "--steps_per_epoch", "2", "--eval_every", "3",
             "--rl_epochs", "1"] + common
    out = _main(*train)
    assert out.returncode == 0, out.stderr
    ckpt = str(tmp_path / "ckpt")
    assert _steps(ckpt) == [2, 4]                    # one pre-training and one RL epoch
    assert os.path.exists(os.path.join(ckpt, "config.json"))
    rows = monitor.read_rows(os.path.join(ckpt, monitor.CSV_FILE))
    assert [r["step"] for r in rows] == [3, 4]       # every 3 steps, and the final model
    assert 0 < rows[0]["seconds"] < rows[1]["seconds"]
    assert sorted(os.listdir(os.path.join(ckpt, monitor.STRIPS))) == ["step_000003.png",
                                                                      "step_000004.png"]
    for row in rows:
        assert 0.0 <= row["background_accuracy"] <= 1.0 and row["psnr"] > 0.0
    assert "epoch 2/2 rl" in out.stdout and "Traceback" not in out.stderr
    previews = [v.image for f in os.listdir(os.path.join(ckpt, "logs"))
                for e in tf.train.summary_iterator(os.path.join(ckpt, "logs", f))
                for v in e.summary.value if v.tag == "samples/x_to_y_0"]
    assert previews, "no X -> Y preview in the TensorBoard log"
    image = tf.image.decode_png(previews[-1].encoded_image_string)     # source over result
    with tf.Session(graph=image.graph) as sess:
        assert sess.run(image).shape == (2 * 32 + video_io.SEPARATOR,
                                         4 * 32 + 3 * video_io.SEPARATOR, 3)
    mtimes = {f: os.path.getmtime(os.path.join(ckpt, f)) for f in os.listdir(ckpt)}
    out = _main(*train)                                # identical command: resumes, not restarts
    assert out.returncode == 0, out.stderr
    assert "already trained 2 of 2 epochs" in out.stdout
    assert _steps(ckpt) == [2, 4]
    assert all(os.path.getmtime(os.path.join(ckpt, f)) == t for f, t in mtimes.items()
               if f.endswith((".index", ".data-00000-of-00001")))
    # The curve's last row is the model a user gets: --mode eval of the final
    # checkpoint on the same held-out clips gives the same numbers.
    results = evaluation.evaluate(parse_args(["--mode", "eval", "--eval_batches", "64",
                                              "--inception_path", "none"] + common))
    for key in ("psnr", "ssim", "background_accuracy"):
        assert results[key] == pytest.approx(rows[-1][key], rel=1e-4, abs=1e-4), key


def _branch_checkpoint():
    """scripts/branch_checkpoint.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "branch_checkpoint", os.path.join(ROOT, "scripts", "branch_checkpoint.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model_folder(folder, steps, kept):
    """A folder as training leaves it: config.json (2 pre-training + 1 RL epochs of
    `steps`), checkpoints of the steps in `kept` and an eval.csv row every step."""
    args = parse_args(["--mode", "train", "--epochs", "3", "--rl_epochs", "1",
                       "--steps_per_epoch", str(steps), "--checkpoint_dir", str(folder)])
    save_config(args, str(folder))
    with tf.Graph().as_default():
        step = tf.get_variable("global_step", [], tf.int64, tf.zeros_initializer())
        saver = tf.train.Saver(max_to_keep=None, save_relative_paths=True)
        with tf.Session() as sess:
            for s in kept:
                sess.run(step.assign(s))
                saver.save(sess, str(folder / args.checkpoint_name), global_step=s,
                           write_meta_graph=False)
    rows = ["%d,%.1f,%.2f,0.5,%.2f,0.01" % (s, 10.0 * s, 6.0 + s, s / (3 * steps))
            for s in range(1, 3 * steps + 1)]
    (folder / monitor.CSV_FILE).write_text("\n".join([",".join(monitor.COLUMNS)] + rows) + "\n")


def test_branch_starts_a_model_from_the_end_of_anothers_pre_training(tmp_path):
    """The no-RL ablation of reproduce_synthetic.sh: it resumes from the step-4
    checkpoint (2 pre-training epochs of 2 steps), with the curve up to there."""
    branch = _branch_checkpoint().branch
    source, destination = tmp_path / "rl", tmp_path / "no_rl"
    source.mkdir()
    _model_folder(source, 2, kept=(2, 4, 6))
    assert branch(str(source), str(destination)) == 4
    assert sorted(os.listdir(destination)) == ["checkpoint", monitor.CSV_FILE,
                                               "rl_v2v_gan-4.data-00000-of-00001",
                                               "rl_v2v_gan-4.index"]
    assert checkpoints.find(str(destination)) == str(destination / "rl_v2v_gan-4")
    assert checkpoints.read_variable(checkpoints.find(str(destination)), "global_step") == 4
    # The whole curve: the resumed run keeps its rows up to step 4 (monitor.HeldOut).
    assert (destination / monitor.CSV_FILE).read_text() == (source / monitor.CSV_FILE).read_text()
    with pytest.raises(SystemExit, match="not empty"):      # never over a model
        branch(str(source), str(destination))

    # Not kept any more (--max_to_keep) or nothing to share: no copy, training from scratch.
    lost, nothing = tmp_path / "lost", tmp_path / "nothing"
    lost.mkdir()
    _model_folder(lost, 2, kept=(6,))
    assert branch(str(lost), str(tmp_path / "from_lost")) is None
    assert not (tmp_path / "from_lost").exists()
    nothing.mkdir()
    _model_folder(nothing, 2, kept=(6,))
    config = load_config(str(nothing))
    config.update(pretrain_epochs=3, rl_epochs=0)
    (nothing / "config.json").write_text(json.dumps(config))
    assert branch(str(nothing), str(tmp_path / "from_nothing")) is None


def _restorable(path):
    with tf.Graph().as_default():
        nets = build_networks((8, 16, 32))
        for s in ("G_X", "G_Y", "P_X", "P_Y"):
            getattr(nets, s)(tf.zeros([1, 4, 32, 32, 3]))
        for s in ("D_X", "D_Y"):
            getattr(nets, s)(tf.zeros([1, 4, 32, 32, 3]))
        saver, missing = checkpoints.restorer(path, tf.global_variables(), tf.global_variables())
        with tf.Session() as sess:
            saver.restore(sess, path)
        return not missing


@pytest.mark.heavy
def test_kill_9_leaves_a_loadable_checkpoint_and_the_same_command_resumes(tmp_path):
    """Also: the resumed run keeps the checkpoints of the killed one under
    --max_to_keep's rotation (they stay in the `checkpoint` index)."""
    train = ["--mode", "train", "--epochs", "3", "--rl_epochs", "0", "--steps_per_epoch", "4",
             "--max_to_keep", "2"] + _args(tmp_path)
    ckpt = str(tmp_path / "ckpt")
    log = open(str(tmp_path / "log.txt"), "w")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py")] + train,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not (
            os.path.isdir(ckpt) and _steps(ckpt)):
        time.sleep(0.2)
    time.sleep(1.0)                                    # into the next epoch, maybe mid-save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    latest = tf.train.latest_checkpoint(ckpt)
    assert latest is not None and _restorable(latest)
    done = int(checkpoints.read_variable(latest, "epoch"))
    assert 1 <= done < 3
    out = _main(*train)
    assert out.returncode == 0, out.stderr
    assert "resuming after epoch %d of 3" % done in out.stdout
    assert _steps(ckpt) == [8, 12]                     # 3 epochs x 4 steps; step 4 rotated out
    state = tf.train.get_checkpoint_state(ckpt)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == \
        ["rl_v2v_gan-8", "rl_v2v_gan-12"]


@pytest.mark.heavy
def test_sigterm_saves_a_checkpoint_exits_cleanly_and_the_resume_ends_on_time(tmp_path):
    """SIGTERM mid-epoch saves at the current step; the same command then runs
    only the steps left, ending at --epochs x --steps_per_epoch."""
    train = ["--mode", "train", "--epochs", "1", "--rl_epochs", "0", "--steps_per_epoch",
             "30", "--eval_every", "2"] + _args(tmp_path)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py")] + train,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    ckpt = str(tmp_path / "ckpt")
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not os.path.isfile(
            os.path.join(ckpt, monitor.CSV_FILE)):         # written after step 2
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by signal" in stdout and "Traceback" not in stderr
    steps = _steps(ckpt)
    assert len(steps) == 1 and 0 < steps[0] < 30
    out = _main(*train)
    assert out.returncode == 0, out.stderr
    assert _steps(ckpt) == [steps[0], 30]          # the rest of the epoch, not all of it again


def _save_generator(directory, filters):
    with tf.Graph().as_default():
        build_networks(filters).G_X(tf.zeros([1, 4, 32, 32, 3]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            os.makedirs(directory, exist_ok=True)
            return tf.train.Saver().save(sess, os.path.join(directory, "rl_v2v_gan"), global_step=1)


def test_restore_of_other_shapes_lists_the_mismatched_variables(tmp_path):
    path = _save_generator(str(tmp_path), (4, 8, 8))
    with tf.Graph().as_default():
        build_networks((4, 8, 16)).G_X(tf.zeros([1, 4, 32, 32, 3]))
        with pytest.raises(UserError, match="does not match this model") as error:
            checkpoints.restorer(path, tf.global_variables(), tf.global_variables())
    assert "G_X/RPB_3/R/conv_lstm/kernel: checkpoint [3, 3, 16, 32], model [3, 3, 24, 64]" \
        in str(error.value)


def test_missing_required_variable_is_an_error_not_a_partial_restore(tmp_path):
    path = _save_generator(str(tmp_path), (4, 8, 8))
    with tf.Graph().as_default():
        nets = build_networks((4, 8, 8))
        nets.G_X(tf.zeros([1, 4, 32, 32, 3]))
        nets.G_Y(tf.zeros([1, 4, 32, 32, 3]))
        with pytest.raises(UserError, match="G_Y/.*missing"):
            checkpoints.restorer(path, tf.global_variables(), tf.global_variables())
        saver, missing = checkpoints.restorer(path, tf.global_variables(),
                                              nets.G_X.variables())
        assert missing and all(v.op.name.startswith("G_Y/") for v in missing)


def test_train_into_a_dir_of_another_architecture_is_a_clear_error(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    _save_generator(ckpt, (4, 8, 8))
    with open(os.path.join(ckpt, "config.json"), "w") as f:
        f.write('{"filters": [4, 8, 8], "input_shape": [4, 32, 32, 3], "model": "rl_v2v_gan"}')
    out = _main("--mode", "train", "--epochs", "1", "--rl_epochs", "0", "--steps_per_epoch", "1",
                *_args(tmp_path))
    assert out.returncode == 2
    assert "--filters" in out.stderr and "another --checkpoint_dir" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.heavy
def test_pretrain_step_moves_g_p_down_eq_10_and_d_down_its_own_loss(graph, rng):
    """One pre-training step from fresh Adam state moves every weight by
    -lr * sign(gradient) (Adam's first step), the gradient being that of eq.
    (10) plus L2 for G_X, G_Y, P_X, P_Y and that of D's loss plus L2 for D_X,
    D_Y, computed here by autodiff on the same batch: swapped variable groups,
    a leaked or missing stop_gradient, or a wrong loss for a group fails."""
    from rl_v2v_gan import model, objectives
    from rl_v2v_gan.networks import DISCRIMINATORS, POLICY
    args = parse_args(["--mode", "train", "--input_shape", "4", "8", "8", "3", "--batch_size",
                       "2", "--filters", "2", "2", "2", "--recompute", "off", "--average_decay",
                       "0", "--learning_rate", "1e-3",
                       "--d_augment", "off"])   # random per run: autodiff and the step would differ
    g = model.TrainGraph(args, "pretrain")
    inputs = g.pretrain.inputs
    losses = objectives.pretrain_losses(g.nets, inputs, args)
    groups = {"G": (losses["G_loss"] + model.l2(g.nets, POLICY), g.model_variables(POLICY)),
              "D": (losses["D_loss"] + model.l2(g.nets, DISCRIMINATORS),
                    g.model_variables(DISCRIMINATORS))}
    clip = lambda n: rng.uniform(-1, 1, (n, 4, 8, 8, 3))
    feed = {inputs["x"]: clip(2), inputs["y"]: clip(2), inputs["z"]: clip(2),
            inputs["z_hat"]: rng.uniform(-1, 1, (3, 8, 8, 3)),
            inputs["t_x"]: [1, 3], inputs["t_yz"]: [2, 1, 3, 2]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        checked, trainable = 0, set(tf.trainable_variables())
        for key, (loss, variables) in groups.items():
            variables = [v for v in variables if v in trainable]
            groups[key] = variables, sess.run(tf.gradients(loss, variables), feed), \
                sess.run(variables)
        sess.run(g.pretrain.op, feed)
        for key, (variables, grads, before) in groups.items():
            for v, grad, old in zip(variables, grads, before):
                moved, sure = sess.run(v) - old, np.abs(grad) > 1e-4
                np.testing.assert_allclose(moved[sure], -1e-3 * np.sign(grad[sure]), rtol=0.02,
                                           err_msg="%s (%s)" % (v.op.name, key))
                checked += sure.sum()
    assert checked > 500
