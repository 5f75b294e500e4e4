"""Bad inputs users hit, each one clear UserError naming the file or flag,
with nothing half-written left behind (checkpoints, config.json, datasets)."""
import json
import os

import numpy as np
import pytest

from conftest import ROOT, TINY_FILTERS, file_size_limit
from rl_v2v_gan import checkpoints, config, data
from rl_v2v_gan.errors import UserError
from rl_v2v_gan.networks import build_networks
from rl_v2v_gan.tf_compat import tf


def _save_g_x(directory):
    """A checkpoint `<directory>/rl_v2v_gan-1` of a random G_X; returns its prefix."""
    with tf.Graph().as_default():
        build_networks(TINY_FILTERS).G_X(tf.zeros([1, 4, 16, 16, 3]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, os.path.join(str(directory), "rl_v2v_gan"),
                                         global_step=1, write_meta_graph=False)


def _restore_g_x(path):
    with tf.Graph().as_default():
        build_networks(TINY_FILTERS).G_X(tf.zeros([1, 4, 16, 16, 3]))
        saver, _ = checkpoints.restorer(path, tf.global_variables(), tf.global_variables())
        with tf.Session() as sess:
            checkpoints.restore(saver, sess, path)


@pytest.mark.parametrize("flag", ["--data_dir", "--checkpoint_dir"])
def test_folder_flag_that_is_a_file(tmp_path, flag):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(UserError, match="%s .*a_file: is a file, not a folder" % flag):
        config.parse_args(["--mode", "train", flag, str(tmp_path / "a_file")])


def test_checkpoint_flag_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(UserError, match=r"a_file: no such checkpoint \(expected .*a_file.index"):
        checkpoints.find(explicit=str(tmp_path / "a_file"))
    prefix = _save_g_x(tmp_path)
    with pytest.raises(UserError, match="give the prefix .*rl_v2v_gan-1, not one of its files"):
        checkpoints.find(explicit=prefix + ".index")
    assert checkpoints.find(explicit=prefix) == prefix


def test_missing_index_file_is_named(tmp_path):
    prefix = _save_g_x(tmp_path)
    assert checkpoints.find(str(tmp_path)) == prefix
    os.remove(prefix + ".index")
    with pytest.raises(UserError, match=r"names .*rl_v2v_gan-1, but .*rl_v2v_gan-1.index is "
                                        r"missing"):
        checkpoints.find(str(tmp_path))


def test_latest_checkpoint_of_a_relative_folder(tmp_path, monkeypatch):
    """`--checkpoint_dir runs/x` (relative, as `make train` passes it): the
    `checkpoint` file's relative entry is found once, not joined twice."""
    monkeypatch.chdir(tmp_path)
    os.makedirs(os.path.join("runs", "x"))
    prefix = _save_g_x(os.path.join("runs", "x"))
    assert checkpoints.find(os.path.join("runs", "x")) == prefix == os.path.join("runs", "x",
                                                                                "rl_v2v_gan-1")
    assert os.path.isfile(prefix + ".index")


def test_truncated_data_file_is_one_error(tmp_path):
    prefix = _save_g_x(tmp_path)
    _restore_g_x(prefix)
    data_file = prefix + ".data-00000-of-00001"
    with open(data_file, "r+b") as f:
        f.truncate(os.path.getsize(data_file) // 2)
    with pytest.raises(UserError, match="cannot read checkpoint .*rl_v2v_gan-1: .*truncated or "
                                        "corrupt"):
        _restore_g_x(prefix)


def test_failed_save_is_one_error_and_leaves_no_temporary_files(tmp_path):
    class FullDisk(object):
        def save(self, sess, prefix, global_step, write_meta_graph):
            open(prefix + "-%d.data-00000-of-00001.tempstate123" % global_step, "w").close()
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    with pytest.raises(UserError, match=r"cannot save checkpoint .*model-7: No space left"):
        checkpoints.save(FullDisk(), None, str(tmp_path / "model"), 7)
    assert os.listdir(str(tmp_path)) == []


def test_stale_tempstate_files_are_removed(tmp_path):
    (tmp_path / "model-3.data-00000-of-00001.tempstate8812").write_text("partial")
    (tmp_path / "model-2.index").write_text("kept")
    assert checkpoints.remove_partial(str(tmp_path)) == ["model-3.data-00000-of-00001.tempstate8812"]
    assert os.listdir(str(tmp_path)) == ["model-2.index"]


def test_a_removed_architecture_option_in_config_json_is_one_clear_error(tmp_path):
    """A model trained with `--input_skip on` (an option this version no
    longer builds) is refused by name; `off`, which older files hold, loads."""
    config.save_config(config.parse_args(["--mode", "eval"]), str(tmp_path))
    path = tmp_path / config.CONFIG_FILE
    saved = json.loads(path.read_text())
    for value, refused in (("off", False), ("on", True)):
        path.write_text(json.dumps(dict(saved, input_skip=value)))
        args = config.parse_args(["--mode", "eval"])
        if not refused:
            assert config.checkpoint_spec(args, str(tmp_path)).output_filters == 8
            continue
        with pytest.raises(UserError, match=r"config.json: the model was trained with "
                           r"--input_skip on, an option this version no longer builds"):
            config.checkpoint_spec(args, str(tmp_path))


@pytest.mark.parametrize("key, value, problem", [
    ("input_shape", [8, 32, 32], r"input_shape is \[8, 32, 32\]; it must be \[T, H, W, 3\]"),
    ("filters", [8, 16], r"filters is \[8, 16\]; it must be three positive widths"),
    ("model", "cnn", r'model is "cnn"; it must be rl_v2v_gan or frame'),
    ("output_filters", 0, r"output_filters is 0; it must be a positive width")])
def test_bad_architecture_in_config_json_names_the_file(tmp_path, key, value, problem):
    args = config.parse_args(["--mode", "eval"])
    config.save_config(args, str(tmp_path))
    path = tmp_path / config.CONFIG_FILE
    saved = json.loads(path.read_text())
    saved[key] = value
    path.write_text(json.dumps(saved))
    with pytest.raises(UserError, match=r"config.json: " + problem) as error:
        config.checkpoint_spec(config.parse_args(["--mode", "eval"]), str(tmp_path))
    assert "--" + key not in str(error.value)      # no flag the user never gave is blamed


def test_disk_full_while_preparing_data_keeps_the_old_dataset(tmp_path):
    args = config.parse_args(["--mode", "prepare_data", "--data_dir", str(tmp_path),
                              "--input_shape", "4", "16", "16", "3"])
    tiny = dict(x_frames=16, y_frames=8, z_frames=8, z_hat_images=4)
    data.prepare(args, **tiny)
    before = sorted(os.listdir(str(tmp_path / "synthetic")))
    with file_size_limit(1000), pytest.raises(   # X's array is 9.2 kB: numpy's write fails
            UserError, match="cannot write the dataset to .*synthetic: .*requested and .* written"):
        data.prepare(args, **tiny)
    assert os.listdir(str(tmp_path)) == ["synthetic"]        # no temporary folder left
    assert sorted(os.listdir(str(tmp_path / "synthetic"))) == before
    assert data.ensure_dataset(args).clips("X").dtype == np.uint8


def test_commands_start_quiet_and_tensorflow_logs_on_request(tmp_path):
    """No TensorFlow start-up lines before ours by default; TF_CPP_MIN_LOG_LEVEL=0
    lets TensorFlow's Python logging through again."""
    import subprocess
    import sys
    code = ("from rl_v2v_gan.tf_compat import tf; "
            "print(tf.logging.get_verbosity() == tf.logging.ERROR)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env=env)
    assert quiet.stdout.strip() == "True" and quiet.stderr == ""
    loud = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=dict(env, TF_CPP_MIN_LOG_LEVEL="0"))
    assert loud.stdout.strip() == "False"


def test_config_json_of_the_wrong_type_is_refused_with_its_path(tmp_path):
    (tmp_path / config.CONFIG_FILE).write_text("null")
    with pytest.raises(UserError, match=r"config.json: not the flags of a run .* but null"):
        config.load_config(str(tmp_path))


def test_a_no_op_train_writes_no_config_json(tmp_path):
    """A finished checkpoint without config.json: `train` with other filters
    does nothing and writes nothing (config.json is written only once the
    checkpoint has been restored into the flags' architecture)."""
    from rl_v2v_gan import training
    folder = tmp_path / "ckpt"
    folder.mkdir()
    with tf.Graph().as_default():
        epoch = tf.get_variable("epoch", [], tf.int64, tf.constant_initializer(2))
        with tf.Session() as sess:
            sess.run(epoch.initializer)
            tf.train.Saver().save(sess, str(folder / "rl_v2v_gan"), global_step=4)
    args = config.parse_args(["--mode", "train", "--epochs", "2", "--filters", "4", "4", "4",
                              "--input_shape", "4", "32", "32", "3", "--batch_size", "2",
                              "--data_dir", str(tmp_path / "data"),
                              "--checkpoint_dir", str(folder)])
    training.train(args)
    assert not (folder / config.CONFIG_FILE).exists()


def _finished_run(folder, epoch=2):
    """A checkpoint `<folder>/rl_v2v_gan-4` holding a 64 KB weight and the
    `epoch` counter (stored after it: the .data file's second half)."""
    with tf.Graph().as_default():
        tf.get_variable("G_X/w", [128, 128], tf.float32)
        tf.get_variable("epoch", [], tf.int64, tf.constant_initializer(epoch))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, str(folder / "rl_v2v_gan"), global_step=4,
                                         write_meta_graph=False)


def _train_args(tmp_path, folder):
    return config.parse_args(["--mode", "train", "--epochs", "3", "--filters", "4", "4", "4",
                              "--input_shape", "4", "32", "32", "3", "--batch_size", "2",
                              "--data_dir", str(tmp_path / "data"),
                              "--checkpoint_dir", str(folder)])


@pytest.mark.parametrize("damage, message", [
    ("truncate", r"cannot read checkpoint .*rl_v2v_gan-4: .*\(truncated or corrupt\?\)"),
    ("delete", r"cannot read checkpoint .*rl_v2v_gan-4: .*rl_v2v_gan-4.data-00000-of-00001 "
               r"is missing"),
])
def test_resuming_from_a_damaged_checkpoint_is_one_error(tmp_path, damage, message):
    """Training resumes from the latest checkpoint; a truncated or missing
    .data file is a UserError naming it (not TensorFlow's IndexError or
    OpError), and the damaged file is left as it was for the user to inspect."""
    from rl_v2v_gan import training
    folder = tmp_path / "ckpt"
    folder.mkdir()
    data_file = _finished_run(folder) + ".data-00000-of-00001"
    if damage == "truncate":
        with open(data_file, "r+b") as f:
            f.truncate(os.path.getsize(data_file) // 2)
    else:
        os.remove(data_file)
    before = sorted(os.listdir(str(folder)))
    with pytest.raises(UserError, match=message):
        training.train(_train_args(tmp_path, folder))
    assert sorted(os.listdir(str(folder))) == before


def test_a_failed_run_leaves_no_new_checkpoint_folder(tmp_path):
    """A run that fails before its first checkpoint (here: no dataset) takes
    the checkpoint folder it created with it: no `.lock`, no empty folder."""
    from rl_v2v_gan import training
    (tmp_path / "data").mkdir()
    args = config.parse_args(["--mode", "train", "--dataset", "custom",
                              "--data_dir", str(tmp_path / "data"),
                              "--checkpoint_dir", str(tmp_path / "new")])
    with pytest.raises(UserError, match="data"):
        training.train(args)
    assert os.listdir(str(tmp_path)) == ["data"]


def test_a_failed_new_run_takes_its_files_but_never_a_checkpoint(tmp_path):
    from rl_v2v_gan import training
    folder = tmp_path / "run"
    (folder / "logs").mkdir(parents=True)
    for name in (".lock", "config.json", "eval.csv", "logs/events.out"):
        (folder / name).write_text("x")
    training._remove_if_no_checkpoint(str(folder))
    assert os.listdir(str(folder)) == [".lock"]
    prefix = _finished_run(folder)
    (folder / "config.json").write_text("{}")
    training._remove_if_no_checkpoint(str(folder))
    assert os.path.isfile(prefix + ".index") and (folder / "config.json").exists()


def test_bf16_where_tensorflow_cannot_is_one_error_before_anything_is_written(tmp_path,
                                                                               monkeypatch):
    """`--precision bf16` on a TensorFlow without bfloat16 convolutions
    (TF 1.15's CPU build) stops with one line naming the flag and the way out."""
    from rl_v2v_gan import tf_compat, training
    monkeypatch.setattr(tf_compat, "check_bfloat16",
                        lambda: "TensorFlow 1.15.5 cannot compute bfloat16 convolutions here")
    args = config.parse_args(["--mode", "train", "--precision", "bf16",
                              "--checkpoint_dir", str(tmp_path / "run")])
    with pytest.raises(UserError, match=r"^--precision bf16: TensorFlow 1\.15\.5 .*--precision fp32"):
        training.train(args)
    assert not (tmp_path / "run").exists()
