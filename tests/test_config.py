"""config.py: the recipe, presets, explicit flags over them, and config.json."""
import glob
import json
import os

import pytest

from conftest import ROOT
from rl_v2v_gan import config
from rl_v2v_gan.errors import UserError


def parse(*argv):
    return config.parse_args(["--mode", "train"] + list(argv))


def test_paper_preset_is_the_default_size_and_schedule():
    paper, default = parse("--preset", "paper"), parse()
    assert config.to_dict(paper) == config.to_dict(default)
    assert default.input_shape == [16, 64, 64, 3] and default.filters == [64, 128, 256]
    assert (default.epochs, default.steps_per_epoch, default.batch_size) == (10, 100, 4)
    assert (default.pretrain_epochs, default.rl_epochs) == (8, 2)


def test_presets_set_size_and_schedule_only():
    """`--preset` never touches a recipe key: cpu and paper differ from the
    defaults only in size and schedule."""
    sizes = {"input_shape", "filters", "batch_size", "epochs", "steps_per_epoch", "eval_every"}
    for name, values in config.PRESETS.items():
        assert set(values) <= sizes, name
    cpu, paper = parse("--preset", "cpu"), parse()
    for key in config.RECIPE_KEYS:
        assert getattr(cpu, key) == getattr(paper, key), key


# The reference README's training command and the paper's Table 1 and eq. (10).
PAPER = {"input_shape": [16, 64, 64, 3], "learning_rate": 0.0001, "batch_size": 4, "epochs": 10,
         "steps_per_epoch": 100, "gamma": 0.99, "tau": 0.001, "lambda_v": 1.0,
         "lambda_rr": 0.1, "lambda_rc": 0.1, "checkpoint_dir": "checkpoints",
         "checkpoint_name": "rl_v2v_gan", "eval_batches": 5,
         # Table 1: filters, the 3-channel output ConvLSTM, batch norm in every network.
         "filters": [64, 128, 256], "output_filters": 3, "d_norm": "batch",
         # eq. (1)-(2), (5)-(6), (10) as written: log terms, frames judged alone,
         # the recycled next frame only, no identity term; one learning rate, no
         # schedule, no weight average; sigma1 = sigma2 = 0.8 (paper §6.2; the
         # README's example passes 0.5), L2 0.001.
         "gan_loss": "nonsaturating", "frame_terms": "single", "recycle_frames": "next",
         "lambda_id": 0.0, "bounce_negatives": "off", "shift_negatives": "off",
         "lr_decay": "none", "actor_lr_scale": 1.0, "average_decay": 0.0, "sigma1": 0.8,
         "sigma2": 0.8, "l2": 0.001, "d_augment": "off"}


def test_recipe_paper_gives_every_literal_value_of_the_paper():
    args = parse("--recipe", "paper")
    for key, value in PAPER.items():
        assert getattr(args, key) == value, key
    assert dict(args.weights) == {"lambda_rx": 0.1, "lambda_ry": 0.1, "lambda_rcx": 0.1,
                                "lambda_rcy": 0.1, "lambda_v": 1.0, "lambda_id": 0.0}
    assert not set(config.RECIPES["paper"]) - set(config.RECIPE_KEYS)
    default = parse()
    assert [k for k in config.RECIPE_KEYS if getattr(default, k) != getattr(args, k)] == \
        [k for k in config.RECIPE_KEYS if k in config.RECIPES["paper"]]
    assert parse("--recipe", "paper", "--lambda_rc", "10").lambda_rc == 10.0   # explicit wins


def test_committed_runs_agree_with_the_default_recipe():
    """Every docs/runs/*/config.json was trained with today's default recipe."""
    default = parse("--preset", "cpu")
    runs = sorted(glob.glob(os.path.join(ROOT, "docs", "runs", "*", config.CONFIG_FILE)))
    for path in runs:
        with open(path) as f:
            saved = json.load(f)
        different = {k: (saved.get(k), getattr(default, k)) for k in config.RECIPE_KEYS
                     if saved.get(k) != getattr(default, k)}
        assert not different, (path, different)


def test_cpu_preset_sets_its_flags_and_explicit_flags_win():
    cpu = parse("--preset", "cpu")
    for key, value in config.PRESETS["cpu"].items():
        assert getattr(cpu, key) == value, key
    assert cpu.pretrain_epochs + cpu.rl_epochs == cpu.epochs
    mine = parse("--preset", "cpu", "--filters", "4", "4", "4", "--eval_every=7")
    assert mine.filters == [4, 4, 4] and mine.eval_every == 7
    assert mine.input_shape == config.PRESETS["cpu"]["input_shape"]


def test_cpu_preset_epoch_split_follows_explicit_flags():
    epochs = config.PRESETS["cpu"]["epochs"]
    no_rl = parse("--preset", "cpu", "--rl_epochs", "0")
    assert (no_rl.pretrain_epochs, no_rl.rl_epochs) == (epochs, 0)
    three = parse("--preset", "cpu", "--pretrain_epochs", "3")
    assert (three.pretrain_epochs, three.rl_epochs) == (3, epochs - 3)


def test_unknown_preset_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        parse("--preset", "gpu")
    assert "--preset: invalid choice: 'gpu'" in capsys.readouterr().err


def test_save_config_round_trips_without_runtime_keys(tmp_path):
    args = parse("--preset", "cpu")
    config.save_config(args, str(tmp_path))
    with open(str(tmp_path / config.CONFIG_FILE)) as f:
        saved = json.load(f)
    assert saved == config.load_config(str(tmp_path)) == config.to_dict(args)
    assert not set(config.RUNTIME_KEYS) & set(saved)
    assert [p.name for p in tmp_path.iterdir()] == [config.CONFIG_FILE]


@pytest.mark.parametrize("decay, steps, expected", [
    ("none", (0, 50, 100, 120), [1e-3] * 4),
    ("linear", (0, 50, 75, 100, 120), [1e-3, 1e-3, 5e-4, 0.0, 0.0]),    # held, then down
    ("cosine", (0, 25, 50, 75, 100, 120),                               # down from the start
     [1e-3, 1e-3 * (1 + 2 ** -0.5) / 2, 5e-4, 1e-3 * (1 - 2 ** -0.5) / 2, 0.0, 0.0]),
])
def test_lr_decay_over_the_runs_steps(decay, steps, expected):
    from rl_v2v_gan.model import learning_rate
    from rl_v2v_gan.tf_compat import tf
    args = parse("--epochs", "4", "--steps_per_epoch", "25",
                 "--learning_rate", "0.001", "--lr_decay", decay)
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        lr = learning_rate(args, step)
        with tf.Session() as sess:
            values = [sess.run(lr, {step: s}) for s in steps]
    assert values == pytest.approx(expected, abs=1e-9)


def test_actor_lr_scale_multiplies_only_the_actors_rate():
    from rl_v2v_gan.model import learning_rate
    from rl_v2v_gan.tf_compat import tf
    args = parse("--epochs", "4", "--steps_per_epoch", "25", "--learning_rate",
                 "0.001", "--lr_decay", "linear", "--actor_lr_scale", "0.1")
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        rates = {k: learning_rate(args, step, k) for k in ("G", "D", "Q", "mu")}
        with tf.Session() as sess:
            at = [sess.run(rates, {step: s}) for s in (0, 75)]
    assert [r["G"] for r in at] == pytest.approx([1e-3, 5e-4])
    assert all(r["Q"] == pytest.approx(r["G"]) == pytest.approx(r["D"]) for r in at)
    assert all(r["mu"] == pytest.approx(0.1 * r["G"]) for r in at)
    with pytest.raises(UserError, match="--actor_lr_scale"):
        parse("--actor_lr_scale", "0")


@pytest.mark.parametrize("key, flag, value, before", [("output_filters", "8", 8, 3)])
def test_config_json_from_before_an_architecture_flag_means_the_old_value(
        tmp_path, key, flag, value, before):
    """A checkpoint's config.json written before --output_filters existed is
    read as the architecture it was trained with (Table 1's 3), whatever the
    default is now."""
    saved = config.parse_args(["--mode", "train", "--" + key, flag])
    config.save_config(saved, str(tmp_path))
    path = tmp_path / config.CONFIG_FILE
    old = json.loads(path.read_text())
    del old[key]
    path.write_text(json.dumps(old))
    args = config.parse_args(["--mode", "translate", "--preset", "cpu", "--" + key, flag])
    with pytest.raises(UserError, match="--%s %s disagrees" % (key, flag)):
        config.checkpoint_spec(args, str(tmp_path))
    args = config.parse_args(["--mode", "translate"])
    assert getattr(args, key) == value          # today's default
    spec = config.checkpoint_spec(args, str(tmp_path))
    assert getattr(args, key) == value                          # the flags are not changed
    assert getattr(config.with_architecture(args, spec), key) == before


def test_abbreviated_flags_count_as_given(tmp_path):
    """argparse accepts `--filt` for `--filters`; it is as explicit as the
    full name, so a config.json that disagrees is refused, not silently used."""
    config.save_config(parse("--preset", "cpu"), str(tmp_path))         # filters 8 16 32
    args = config.parse_args(["--mode", "eval", "--filt", "4", "4", "4", "--learning_rate=1e-3"])
    assert {"filters", "learning_rate", "mode"} == args.explicit
    with pytest.raises(UserError, match="--filters \\[4, 4, 4\\] disagrees"):
        config.checkpoint_spec(args, str(tmp_path))
    assert config.parse_args(["--mode", "eval"]).explicit == {"mode"}


def test_non_defaults_lists_only_changed_flags():
    """What training prints and records as the run's changes from the defaults:
    the preset's own values count as changes, explicit flags equal to a
    default do not."""
    changed = config.non_defaults(parse("--preset", "cpu", "--seed", "3", "--learning_rate",
                                        str(config.build_parser().get_default("learning_rate"))))
    assert changed["seed"] == 3 and changed["preset"] == "cpu"
    assert changed["filters"] == [8, 16, 32] and "learning_rate" not in changed
    assert "mode" not in changed and "explicit" not in changed


@pytest.mark.parametrize("shape, problem", [
    (["4", "12", "16", "3"], "H and W must be positive multiples of 8, got 12 16"),
    (["4", "16", "16", "1"], r"C must be 3 \(RGB\), got 1"),
    (["1", "16", "16", "3"], "T must be at least 2")])
def test_bad_input_shape_flag_is_named_once_in_config(shape, problem):
    with pytest.raises(UserError, match="--input_shape: " + problem):
        parse("--input_shape", *shape)


def test_output_filters_flag_must_be_positive():
    assert config.model_spec(parse("--output_filters", "8")).output_filters == 8
    with pytest.raises(UserError, match="--output_filters must be positive, got 0"):
        parse("--output_filters", "0")


def test_the_flags_derive_the_architecture_eq_10_weights_and_the_step_count():
    args = parse("--recompute", "off", "--lambda_rc", "3", "--epochs", "4",
                 "--steps_per_epoch", "25")
    assert args.spec == config.model_spec(args) and args.spec.input_shape == tuple(args.input_shape)
    assert args.spec.output_filters == 8 and args.total_steps == 100
    assert args.weights["lambda_rcx"] == args.weights["lambda_rcy"] == 3.0
    with pytest.raises(TypeError):
        args.weights["lambda_v"] = 2.0
    changed = args.replace(lambda_rc=5.0, epochs=2)
    assert changed.weights["lambda_rcx"] == 5.0 and changed.total_steps == 50
    assert args.weights["lambda_rcx"] == 3.0 and "weights" not in config.to_dict(args)


@pytest.mark.parametrize("argv, recompute, grappler", [
    ((), "on", "on"),                                               # the paper's size
    (("--preset", "cpu"), "off", "off"),
    (("--input_shape", "4", "32", "32", "3", "--batch_size", "2"), "off", "off"),  # quick check
    (("--input_shape", "8", "64", "64", "3", "--batch_size", "1"), "off", "on"),
    (("--input_shape", "16", "64", "64", "3", "--batch_size", "1"), "on", "on"),
    (("--preset", "cpu", "--recompute", "on", "--grappler", "on"), "on", "on"),  # explicit wins
])
def test_auto_recompute_and_grappler_follow_the_steps_size(argv, recompute, grappler):
    args = parse(*argv)
    assert (args.recompute, args.grappler) == (recompute, grappler)


@pytest.mark.parametrize("flag, value, problem", [
    ("--learning_rate", "nan", "must be a finite number, got nan"),
    ("--lambda_rr", "nan", "must be a finite number, got nan"),
    ("--lambda_rc", "inf", "must be a finite number, got inf"),
    ("--learning_rate=-1e-3", None, "must be positive"),
    ("--lambda_v", "-1", "must be >= 0, got -1.0"),
    ("--l2", "-5", "must be >= 0, got -5.0"),
    ("--sigma1", "1.5", r"must be in \[0, 1\]"),
    ("--average_decay", "1", r"must be in \[0, 1\)"),
    ("--seed", "-1", "must be >= 0"),
    ("--seed", str(2 ** 32), "must be below 2"),
    ("--eval_every", "-2", "must be >= 0"),
    ("--max_to_keep", str(10 ** 11), "must be below 2"),
    ("--steps_per_epoch", str(2 ** 31), "must be below 2"),
])
def test_numeric_flags_are_checked_by_range_before_anything_runs(flag, value, problem):
    with pytest.raises(UserError, match=flag.split("=")[0] + " " + problem):
        parse(*[a for a in (flag, value) if a is not None])


def test_a_replay_buffer_larger_than_memory_is_refused_before_any_file(tmp_path):
    from rl_v2v_gan import training
    args = parse("--buffer_size", "2000000000", "--checkpoint_dir", str(tmp_path / "run"),
                 "--data_dir", str(tmp_path / "data"))
    with pytest.raises(UserError, match=r"--buffer_size 2000000000: the replay buffer of "
                                        r"16x64x64x3 clips needs \d+\.\d GB, more than"):
        training.train(args)
    assert os.listdir(str(tmp_path)) == []


def test_flags_are_read_only_and_validate_returns_a_new_object():
    """parse_args gives one read-only `Flags`; `replace` makes a changed copy;
    `validate` resolves the epoch split and the `auto` switches into a new
    object and leaves its input as it was."""
    raw = config.build_parser().parse_args(["--mode", "train", "--epochs", "8"])
    flags = config.validate(raw, started=0.0)
    assert (raw.pretrain_epochs, raw.rl_epochs, raw.recompute) == (None, None, "auto")
    assert (flags.pretrain_epochs, flags.rl_epochs) == (6, 2)
    assert flags.recompute in ("on", "off") and flags.started == 0.0
    with pytest.raises(AttributeError):
        flags.sigma1 = 1.0
    changed = flags.replace(sigma1=1.0)
    assert (changed.sigma1, flags.sigma1) == (1.0, 0.8)
    assert isinstance(parse(), config.Flags)
