"""The one flag definition, its validation, and `config.json` beside checkpoints.

Flag names follow the reference README. Three layers of defaults:

- the parser's defaults are the training recipe measured to learn at every
  size tried (docs/training.md: each choice, the paper's value, why, and the
  measurement); the paper's own values where the recipe keeps them
  (sigma1 = sigma2 = 0.8, L2 0.001, gamma, tau);
- `--recipe paper` restores every literal value of the paper and the
  reference README (`RECIPES`);
- `--preset cpu|paper` chooses only the clip size and the schedule
  (`PRESETS`).

Flags given explicitly win over both. Training writes every flag to
`<checkpoint_dir>/config.json`; eval and translate read the architecture
back from it, so a released checkpoint needs no shape flags.
"""
import argparse
import collections
import json
import math
import os
import time
import types

from .errors import UserError
from .files import write_json

MODES = ("prepare_data", "train", "eval", "translate", "export")
DATASETS = ("synthetic", "flower", "city", "custom")
# Flags that fix the variables of a checkpoint: read back from config.json.
ARCH_KEYS = ("input_shape", "filters", "model", "output_filters")
CONFIG_FILE = "config.json"
# Architecture flags added later, with the value a config.json without them means.
ARCH_BEFORE = {"output_filters": 3}
# Architecture options a config.json may hold that this version no longer
# builds, with the value that means "not used".
ARCH_REMOVED = {"input_skip": "off"}

# `--recompute auto` and `--grappler auto` resolve by the size of a step
# (docs/performance.md, "Defaults by size"): activation recomputation from
# batch x T x H x W x F1 elements of the first level's activations (a quarter
# of the paper's size; the paper's size without it ran out of 22 GB), the
# graph optimizer from H x W pixels (it made a T=8, 64x64 step 12% faster and
# gained nothing at 32x32, where its first call costs ~20 s).
RECOMPUTE_FROM = 1 << 22
GRAPPLER_FROM = 64 * 64

# The recipe keys: every flag whose default is a training choice.
RECIPE_KEYS = ("learning_rate", "lr_decay", "actor_lr_scale", "gan_loss", "frame_terms",
               "bounce_negatives", "shift_negatives", "d_norm", "recycle_frames", "lambda_v",
               "lambda_rr", "lambda_rc", "lambda_id", "output_filters", "average_decay", "sigma1",
               "sigma2", "l2", "gamma", "tau", "d_augment")
# `--recipe paper`: the paper's literal values (§6.2, eq. 10, Table 1) and the
# reference README's training command, where the default recipe differs.
RECIPES = {
    "default": {},
    "paper": {"learning_rate": 1e-4, "lr_decay": "none", "actor_lr_scale": 1.0,
              "gan_loss": "nonsaturating", "frame_terms": "single", "bounce_negatives": "off",
              "shift_negatives": "off",
              "d_norm": "batch", "recycle_frames": "next", "lambda_v": 1.0, "lambda_rc": 0.1,
              "lambda_id": 0.0, "output_filters": 3, "average_decay": 0.0,
              "d_augment": "off"},
}
# Presets: the clip size and the schedule only.
PRESETS = {
    "paper": {"input_shape": [16, 64, 64, 3], "filters": [64, 128, 256], "batch_size": 4,
              "epochs": 10, "steps_per_epoch": 100},
    "cpu": {"input_shape": [8, 32, 32, 3], "filters": [8, 16, 32], "batch_size": 4,
            "epochs": 6, "steps_per_epoch": 100, "eval_every": 50},
}


def build_parser():
    p = argparse.ArgumentParser(
        prog="main.py", description="RL-V2V-GAN: few-shot video-to-video translation "
        "with ConvLSTM GANs trained by policy gradient.")
    a = p.add_argument
    a("--mode", choices=MODES, required=True)
    a("--preset", choices=sorted(PRESETS), default="paper",
      help="clip size and schedule: 'paper' (T=16, 64x64, filters 64/128/256, 10 epochs; "
      "GPU-sized) or 'cpu' (T=8, 32x32, filters 8/16/32, 4 epochs: minutes on a 2-core CPU); "
      "explicit flags override it")
    a("--recipe", choices=sorted(RECIPES), default="default",
      help="training choices: 'default' (measured to learn, docs/training.md) or 'paper' "
      "(every literal value of the paper: log loss, batch norm in D, eq. 10's weights, "
      "Table 1's 3-channel output, learning rate 1e-4, no weight average); explicit flags "
      "override it")
    a("--dataset", choices=DATASETS, default="synthetic")
    a("--data_dir", default="data", help="prepared datasets live in DATA_DIR/<dataset>")
    a("--raw_dir", help="prepare_data for flower/city/custom: folder with X/ Y/ Z/ Z_images/")
    a("--input_shape", type=int, nargs=4, metavar=("T", "H", "W", "C"))
    a("--filters", type=int, nargs=3, metavar=("F1", "F2", "F3"),
      help="widths of the three RPB levels")
    a("--model", choices=("rl_v2v_gan", "frame"), default="rl_v2v_gan",
      help="'frame': the same generator applied frame by frame (T = 1 baseline)")
    a("--output_filters", type=int, default=8,
      help="channels of the generators' and predictors' last ConvLSTM, before the 1x1 "
      "projection to RGB (choice; Table 1: 3): wider lets time and colour both pass")
    a("--seed", type=int, default=0)
    # Training (Algorithm 1 and eq. 10).
    a("--learning_rate", type=float, default=1e-3, help="Adam's rate (paper: 1e-4)")
    a("--lr_decay", choices=("none", "linear", "cosine"), default="cosine",
      help="'linear': the learning rate stays constant for the first half of all steps "
      "(--epochs x --steps_per_epoch) and falls linearly to 0 over the second (CycleGAN's "
      "schedule); 'cosine': falls from the first step as (1 + cos(pi * step / steps)) / 2; "
      "'none': constant (the paper)")
    a("--actor_lr_scale", type=float, default=0.1,
      help="Algorithm 1: the actor's learning rate (the policy networks' DDPG update) as a "
      "multiple of --learning_rate: DDPG (Lillicrap et al. 2016) trains its actor 10x slower "
      "than its critic (0.1); 1: one rate for every network (the paper)")
    a("--batch_size", type=int, help="clips per step; m transitions per RL iteration")
    a("--epochs", type=int, help="total epochs: pre-training, then Algorithm 1")
    a("--pretrain_epochs", type=int, default=None,
      help="gradient-only epochs on eq. (10) first (default: epochs - rl_epochs)")
    a("--rl_epochs", type=int, default=None,
      help="Algorithm 1 epochs at the end (default: a quarter of --epochs, at least 1 of 2 or "
      "more; 0 = the no-RL ablation)")
    a("--steps_per_epoch", type=int)
    a("--max_target_clips", type=int, default=0,
      help="train on only the first N clips of Y and of Z (the shot count: few-shot "
      "experiments, scripts/few_shot.sh); X and the images Z_hat unchanged; 0 = all")
    a("--gamma", type=float, default=0.99, help="discount factor")
    a("--tau", type=float, default=0.001, help="soft target update rate")
    a("--gan_loss", choices=("nonsaturating", "least_squares"), default="least_squares",
      help="form of the adversarial terms: least squares, or the paper's log terms "
      "(non-saturating for G)")
    a("--frame_terms", choices=("single", "prefix"), default="prefix",
      help="how D judges frame t in eq. (1)-(2): 'prefix', D's output at step t of one causal "
      "pass over the clip (frame t after x_1..t-1, as Algorithm 1's D update on prefixes); "
      "'single' (the paper's wording), the frame alone as a clip of length 1")
    a("--bounce_negatives", choices=("on", "off"), default="on",
      help="pre-training with --frame_terms prefix: D_Y also learns that real Y clips whose "
      "first (last) half is played forward and back are fake: the look of one half at the "
      "other half's times")
    a("--shift_negatives", choices=("on", "off"), default="on",
      help="pre-training with --frame_terms prefix: D_Y also learns that real Y clips shown "
      "one frame late or one frame early are fake: every change of look one step off its time")
    a("--d_norm", choices=("batch", "none", "spectral"), default="none",
      help="normalization inside D_X, D_Y: 'none' (no statistics shared between the real and "
      "generated clips D judges), 'spectral' (every kernel divided by its largest singular "
      "value, Miyato et al. 2018), or 'batch', the paper's sequence-wise batch norm")
    a("--d_augment", choices=("off", "on"), default="on",
      help="(choice) the discriminators judge every training clip moved by up to 1/8 of its "
      "size and with a half-size square cut out, at random per clip (DiffAugment)")
    a("--recycle_frames", choices=("next", "all"), default="all",
      help="frames of the translated-back clip in L_rc, eq. (5)-(6): 'all', frames 1..t+1 "
      "(1..t are cycle-consistency terms); 'next', frame t+1 only (the paper)")
    a("--lambda_v", type=float, default=0.0, help="video loss weight, eq. (10) (paper: 1)")
    a("--lambda_rr", type=float, default=0.1,
      help="recurrent loss weight, both domains (lambda_rx = lambda_ry)")
    a("--lambda_rc", type=float, default=10.0,
      help="recycle loss weight, both domains (lambda_rcx = lambda_rcy; paper: 0.1)")
    a("--lambda_id", type=float, default=20.0,
      help="identity term (not in the paper; CycleGAN's): ||y - G_Y(y)||^2 + ||x - G_X(x)||^2 "
      "in pre-training, so the generators keep what needs no change; 0 = off")
    a("--sigma1", type=float, default=0.8, help="probability of replaying a tuple of B")
    a("--sigma2", type=float, default=0.8, help="probability of the greedy action by Q")
    a("--average_decay", type=float, default=0.999,
      help="eval, translate, export and the held-out curve use an exponential moving average "
      "of G_X and G_Y over the training steps with this decay (choice, not in the paper; "
      "warmed up as min(decay, (1 + n) / (10 + n)) after n steps); 0 = the raw generators")
    a("--l2", type=float, default=0.001, help="L2 regularization of trainable weights")
    a("--buffer_size", type=int, default=1000, help="replay buffer capacity (transitions)")
    a("--num_gpus", type=int, default=1, help="data-parallel towers")
    a("--device", choices=("auto", "gpu", "cpu"), default="auto")
    a("--recompute", choices=("auto", "on", "off"), default="auto",
      help="recompute each network's forward in the backward pass instead of keeping its "
      "activations: the paper's size fits 24 GB at batch 4; 'off' is faster when memory "
      "allows; 'auto': on when batch x T x H x W x F1 >= %d (the paper's size: %d)"
      % (RECOMPUTE_FROM, 4 * 16 * 64 * 64 * 64))
    a("--precision", choices=("fp32", "bf16"), default="fp32",
      help="train: the dtype of every convolution and matmul (forward and backward); "
      "variables, batch norm, losses and the optimizer stay float32. 'bf16' needs a "
      "TensorFlow with bfloat16 convolutions (2.x; CPUs with AVX512-BF16 or AMX, GPUs)")
    a("--grappler", choices=("auto", "on", "off"), default="auto",
      help="TensorFlow's graph optimizer: 'off' starts much faster, runs a little slower at "
      "large frames; 'auto': on for frames of at least %d pixels (64x64)" % GRAPPLER_FROM)
    # Multi-machine training (or the TF_CONFIG environment variable).
    a("--ps_hosts", help="comma-separated host:port of the parameter servers")
    a("--worker_hosts", help="comma-separated host:port of the workers (worker 0 is the chief)")
    a("--job_name", choices=("ps", "worker"), help="this process's job in the cluster")
    a("--task_index", type=int, default=0, help="this process's index in its job")
    # Checkpoints and evaluation.
    a("--checkpoint_dir", default="checkpoints")
    a("--checkpoint_name", default="rl_v2v_gan")
    a("--checkpoint", help="eval/translate: an explicit checkpoint prefix")
    a("--max_to_keep", type=int, default=5)
    a("--eval_batches", type=int, default=5)
    a("--eval_every", type=int, default=0,
      help="train: every N steps, metrics of G_Y on the held-out clips of X to TensorBoard "
      "(eval/...) and <checkpoint_dir>/eval.csv; 0 = never")
    a("--samples_dir", help="eval: where the sample GIFs go (default: <checkpoint_dir>/samples)")
    a("--inception_path", help="FID: Inception-v3 frozen graph (.pb) or a folder with it "
      "(must exist); 'none' skips FID; default: the cache, downloaded when missing")
    a("--input", help="translate: a video file or a folder of frames")
    a("--output", help="translate: the output .mp4")
    a("--direction", choices=("x2y", "y2x"), default="x2y")
    a("--state", choices=("carry", "reset"), default="carry",
      help="translate: each window of T frames starts from the ConvLSTM states the previous "
      "one ended in ('carry': one causal pass over the video) or from zeros ('reset')")
    a("--export_dir", help="export: where to write the inference bundle")
    p.set_defaults(**PRESETS["paper"])    # the size and schedule flags' defaults
    return p


# The ranges of the numeric flags, checked in one pass (after: every float
# flag is finite). Flags not named take any value of their type.
POSITIVE = ("learning_rate", "actor_lr_scale", "batch_size", "steps_per_epoch", "buffer_size",
            "max_to_keep", "eval_batches", "num_gpus", "output_filters")
NON_NEGATIVE = ("lambda_v", "lambda_rr", "lambda_rc", "lambda_id", "l2", "eval_every", "epochs",
                "max_target_clips", "seed", "task_index")
UNIT = ("gamma", "tau", "sigma1", "sigma2")    # [0, 1]


def check_numbers(args):
    """One `--flag must ...` UserError for the first numeric flag out of range."""
    for name, value in sorted(vars(args).items()):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError("--%s must be a finite number, got %s" % (name, value))
    for n in POSITIVE:
        if getattr(args, n) <= 0:
            raise UserError("--%s must be positive, got %s" % (n, getattr(args, n)))
    for n in NON_NEGATIVE:
        if getattr(args, n) < 0:
            raise UserError("--%s must be >= 0, got %s" % (n, getattr(args, n)))
    for n in UNIT:
        if not 0.0 <= getattr(args, n) <= 1.0:
            raise UserError("--%s must be in [0, 1], got %s" % (n, getattr(args, n)))
    if not 0.0 <= args.average_decay < 1.0:
        raise UserError("--average_decay must be in [0, 1) (0 = off), got %s" % args.average_decay)
    for name, value in sorted(vars(args).items()):    # TensorFlow's int32 attributes
        if any(isinstance(v, int) and not isinstance(v, bool) and v >= 2 ** 31
               for v in (value if isinstance(value, list) else [value])):
            raise UserError("--%s must be below 2^31, got %s" % (name, value))
    if min(args.filters) <= 0:
        raise UserError("--filters must be positive, got %s" % args.filters)


def resolve_auto(args):
    """`--recompute auto` and `--grappler auto` => "on" or "off" by the step's
    size (`RECOMPUTE_FROM`, `GRAPPLER_FROM`): `{flag: resolved value}`."""
    T, H, W, _ = args.input_shape
    resolved = {}
    if args.recompute == "auto":
        elements = args.batch_size * T * H * W * args.filters[0]
        resolved["recompute"] = "on" if elements >= RECOMPUTE_FROM else "off"
    if args.grappler == "auto":
        resolved["grappler"] = "on" if H * W >= GRAPPLER_FROM else "off"
    return resolved


def default_rl_epochs(epochs):
    """Algorithm 1's share of `epochs` when neither split flag is given: the
    last quarter, at least one epoch of two or more (4 => 3 + 1, 10 => 8 + 2)."""
    return max(epochs // 4, 1 if epochs >= 2 else 0)


class Flags(argparse.Namespace):
    """The validated flags, read-only: the one configuration object every
    layer reads (the training graph, Algorithm 1, the loop, evaluation, the
    monitor). Derived views: `spec` (the architecture, `ModelSpec`),
    `weights` (eq. 10's λs by the paper's names, read-only) and
    `total_steps`. `replace(**changes)` gives a changed copy."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __setattr__(self, name, value):
        raise AttributeError("the flags are read-only: use .replace(%s=...)" % name)

    def replace(self, **changes):
        return Flags(**dict(vars(self), **changes))

    @property
    def spec(self):
        return model_spec(self)

    @property
    def weights(self):
        return types.MappingProxyType({k: getattr(self, f) for k, f in LAMBDAS.items()})

    @property
    def total_steps(self):
        return self.epochs * self.steps_per_epoch


def validate(args, **runtime):
    """Check flag values and resolve derived ones (the epoch split, `auto`
    switches) => a new `Flags` with `runtime` attributes added (`args` is
    not changed)."""
    T, H, W, C = args.input_shape
    if T < 2:
        raise UserError("--input_shape: T must be at least 2 (predictors need a next frame)")
    if H % 8 or W % 8 or H <= 0 or W <= 0:
        raise UserError("--input_shape: H and W must be positive multiples of 8, got %d %d" % (H, W))
    if C != 3:
        raise UserError("--input_shape: C must be 3 (RGB), got %d" % C)
    for flag in ("data_dir", "checkpoint_dir"):
        path = getattr(args, flag)
        if path and os.path.exists(path) and not os.path.isdir(path):
            raise UserError("--%s %s: is a file, not a folder" % (flag, path))
    for flag in ("bounce_negatives", "shift_negatives"):
        if getattr(args, flag) == "on" and args.frame_terms != "prefix":
            raise UserError("--%s on needs --frame_terms prefix (a frame judged alone has no "
                            "place in time)" % flag)
    check_numbers(args)
    pretrain_epochs, rl_epochs = args.pretrain_epochs, args.rl_epochs
    if rl_epochs is None:
        pretrain_epochs = (args.epochs - default_rl_epochs(args.epochs) if pretrain_epochs is None
                           else min(pretrain_epochs, args.epochs))
        rl_epochs = args.epochs - pretrain_epochs
    elif pretrain_epochs is None:
        pretrain_epochs = args.epochs - rl_epochs
    if min(pretrain_epochs, rl_epochs) < 0 or pretrain_epochs + rl_epochs != args.epochs:
        raise UserError("--pretrain_epochs (%d) + --rl_epochs (%d) must equal --epochs (%d)"
                        % (pretrain_epochs, rl_epochs, args.epochs))
    if args.model == "frame" and rl_epochs:
        raise UserError("--model frame is the frame-based baseline: use --rl_epochs 0")
    if args.batch_size % args.num_gpus:
        raise UserError("--batch_size (%d) must be divisible by --num_gpus (%d)"
                        % (args.batch_size, args.num_gpus))
    return Flags(**dict(vars(args), pretrain_epochs=pretrain_epochs, rl_epochs=rl_epochs,
                        **resolve_auto(args), **runtime))


def parse_args(argv=None, started=None):
    """The validated flags; `started`: when the command started (default now)."""
    parser = build_parser()
    layers = argparse.ArgumentParser(add_help=False)   # the full parser checks the values
    layers.add_argument("--preset", default="paper")
    layers.add_argument("--recipe", default="default")
    chosen = layers.parse_known_args(argv)[0]
    defaults = dict(PRESETS.get(chosen.preset, {}), **RECIPES.get(chosen.recipe, {}))
    parser.set_defaults(**defaults)
    return validate(parser.parse_args(argv), explicit=explicit_flags(argv),
                    started=time.time() if started is None else started)


def explicit_flags(argv):
    """Names of the flags given on the command line, as argparse reads them
    (abbreviations such as `--filt` included): parsed once more into a
    namespace whose every flag already holds a marker, which argparse then
    replaces only for the flags it was given."""
    parser, unset = build_parser(), object()
    marked = argparse.Namespace(**{a.dest: unset for a in parser._actions})
    return {k for k, v in vars(parser.parse_args(argv, marked)).items() if v is not unset}


def non_defaults(args):
    """`{flag: value}` for the flags that differ from the parser's defaults."""
    defaults = vars(validate(build_parser().parse_args(["--mode", args.mode])))
    return {k: v for k, v in to_dict(args).items() if k in defaults and defaults[k] != v}


# Attributes of the parsed flags that describe this process, not the run.
RUNTIME_KEYS = ("explicit", "started")


def to_dict(args):
    return {k: v for k, v in vars(args).items() if k not in RUNTIME_KEYS}


def save_config(args, directory):
    """Write every flag to `directory/config.json` (atomically)."""
    write_json(os.path.join(directory, CONFIG_FILE), to_dict(args))


# What an export bundle's config.json keeps of the training run's: the
# architecture, the data and schedule, and the recipe (no paths, no
# process or evaluation settings).
BUNDLE_KEYS = ARCH_KEYS + ("dataset", "recipe", "preset", "seed", "batch_size", "epochs",
                           "pretrain_epochs", "rl_epochs", "steps_per_epoch") + RECIPE_KEYS


def bundle_config(saved, checkpoint):
    """The config.json of an export bundle from the training run's `saved`
    flags and the checkpoint prefix it was exported from (its file name only)."""
    kept = {k: saved[k] for k in BUNDLE_KEYS if k in saved}
    return dict(kept, exported_from=os.path.basename(checkpoint))


def load_config(directory):
    """The flags saved beside a checkpoint, or None if there is no config.json."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            saved = json.load(f)
    except ValueError as e:
        raise UserError("%s: not valid JSON (%s)" % (path, e))
    if not isinstance(saved, dict):
        raise UserError("%s: not the flags of a run (a JSON object), but %s: fix the file or "
                        "delete it" % (path, json.dumps(saved)[:40]))
    return saved


def _architecture_problem(key, value):
    """What is wrong with a saved architecture value, or None."""
    ints = isinstance(value, list) and all(isinstance(v, int) and v > 0 for v in value)
    if key == "input_shape" and not (ints and len(value) == 4 and value[3] == 3 and
                                     value[1] % 8 == 0 and value[2] % 8 == 0):
        return "it must be [T, H, W, 3] with H and W multiples of 8"
    if key == "filters" and not (ints and len(value) == 3):
        return "it must be three positive widths"
    if key == "model" and value not in ("rl_v2v_gan", "frame"):
        return "it must be rl_v2v_gan or frame"
    if key == "output_filters" and not (isinstance(value, int) and value > 0):
        return "it must be a positive width"
    return None


def saved_architecture(saved, path=CONFIG_FILE):
    """The architecture flags of a loaded config.json: {key: value} (flags added
    after the file was written take their value from before, `ARCH_BEFORE`).
    A model built with an option this version no longer has (`ARCH_REMOVED`)
    is a UserError naming `path`."""
    for key, unused in ARCH_REMOVED.items():
        if saved.get(key, unused) != unused:
            raise UserError("%s: the model was trained with --%s %s, an option this version "
                            "no longer builds; use the version that trained it"
                            % (path, key, saved[key]))
    values = {k: saved.get(k, ARCH_BEFORE.get(k)) for k in ARCH_KEYS}
    return {k: v for k, v in values.items() if v is not None}


def checkpoint_spec(args, directory):
    """The `ModelSpec` of the model in `directory`, from its config.json (None
    when there is none). Flags given explicitly must agree with it, or a
    UserError names them; `args` is not changed."""
    saved = load_config(directory)
    if saved is None:
        return None
    path = os.path.join(directory, CONFIG_FILE)
    values = saved_architecture(saved, path)
    for key, value in values.items():
        problem = _architecture_problem(key, value)
        if problem:
            raise UserError("%s: %s is %s; %s (fix the file or delete it and pass the "
                            "architecture flags)" % (path, key, json.dumps(value), problem))
        if key in args.explicit and getattr(args, key) != value:
            raise UserError("--%s %s disagrees with %s (%s); drop the flag or use a matching "
                            "checkpoint" % (key, getattr(args, key), path, value))
    return model_spec(dict({k: getattr(args, k) for k in ARCH_KEYS}, **values))  # missing: flags


# ----------------------------------------------------------------------------
# Immutable views of the flags for the graph code.

ModelSpec = collections.namedtuple("ModelSpec", "input_shape filters model output_filters")
ModelSpec.__doc__ = """The architecture of a model (the `ARCH_KEYS` flags: what
fixes its variables): input_shape `(T, H, W, 3)`, filters (three widths),
model ("rl_v2v_gan" or "frame"), output_filters (int)."""


def model_spec(values):
    """The `ModelSpec` of parsed flags or of a config.json's `{key: value}`."""
    get = values.get if isinstance(values, dict) else lambda key: getattr(values, key)
    return ModelSpec(tuple(get("input_shape")), tuple(get("filters")), get("model"),
                     get("output_filters"))


def with_architecture(args, spec):
    """A copy of the flags with the architecture of `spec` (e.g. a checkpoint's)."""
    return args.replace(input_shape=list(spec.input_shape), filters=list(spec.filters),
                        model=spec.model, output_filters=spec.output_filters)


# The weights of eq. (10) by the paper's names, from the flags: one recurrent
# and one recycle weight for both domains (the paper gives one value each).
LAMBDAS = {"lambda_rx": "lambda_rr", "lambda_ry": "lambda_rr", "lambda_rcx": "lambda_rc",
           "lambda_rcy": "lambda_rc", "lambda_v": "lambda_v", "lambda_id": "lambda_id"}

