"""Evaluation, translation and export of trained generators (paper §6).

    evaluate(args)   --mode eval: translate test clips of X with G_Y, print and save
                     the metrics (metrics.py), write side-by-side sample videos
    translate(args)  --mode translate: one video file or frame folder, any length and
                     resolution, through G_Y (x2y) or G_X (y2x), to an MP4
    export(args)     --mode export: an inference-only bundle (generator weights and
                     batch-norm statistics, `checkpoint` index, config.json)

All three restore through `load_generators`, the one place that restores for
inference: it finds the checkpoint (`--checkpoint PREFIX`, or the latest in
`--checkpoint_dir`), takes the architecture from the `config.json` beside
it (`config.checkpoint_spec`), builds `G_X` and `G_Y` in inference
mode (`is_training=False`: batch norm uses its moving averages) in their own
graph, and restores only their variables with `checkpoints.restorer`, so a
checkpoint of another architecture fails with a message naming the
mismatched variables. A full training checkpoint and an export bundle are
read the same way. Where a checkpoint holds the generators' weight average
(`average.py`), that is what is restored; an export bundle stores it under
the generators' own names.

Translating a video of any size (`translate`):
- (choice) Frames are stretched to the model's H x W (`video_io.resize`
  without crop: every input pixel is translated, the aspect ratio is
  distorted and restored by resizing the output back to the input's size).
- Streaming: frames are decoded, translated and encoded one window of T
  frames at a time, so memory depends on the frame size and T, not on the
  video's length. The checkpoint and its config are checked before anything
  is decoded.
- `--state carry` (default): each window starts from the ConvLSTM states
  the previous one ended in (`ops.StateCarry`), so the video is translated
  as by one long causal pass. `--state reset`: every window starts from
  zero states, like the T-frame clips of training (the look can jump at
  window boundaries). The last, partial window is padded by repeating its
  last frame and the padded outputs are dropped: every layer is causal in
  time and inference batch norm uses fixed statistics, so padding at the end
  does not change the earlier outputs.
"""
import os
import time

import numpy as np
from tqdm import tqdm

from . import average, checkpoints, config, data, metrics, ops, video_io
from .errors import UserError
from .files import atomic_path, check_destination, write_json
from .networks import build_networks
from .tf_compat import OwnsSession, session_config, tf

GENERATORS = ("G_X", "G_Y")
# --direction => the generator that translates that way (G_Y outputs domain Y).
DIRECTIONS = {"x2y": "G_Y", "y2x": "G_X"}
METRICS_FILE = "metrics.json"
NO_FID = "none"      # --inception_path none: skip FID
SAMPLE_CLIPS = 3     # clips written to --samples_dir by eval
SAMPLE_FPS = 8.0     # dataset clips have no frame rate of their own


# ----------------------------------------------------------------------------
# Restoring the generators.

def resolve_checkpoint(args):
    """The checkpoint to restore: `(path, directory, spec)`, its prefix, the
    folder of its config.json and its `config.ModelSpec` (from config.json,
    explicit flags must agree; from the flags when there is none).

    `--checkpoint PREFIX` wins over `--checkpoint_dir`.
    """
    if args.checkpoint:
        path = checkpoints.find(explicit=args.checkpoint)
        directory = os.path.dirname(os.path.abspath(path))
    else:
        directory = args.checkpoint_dir
        if not os.path.isdir(directory):
            raise UserError("--checkpoint_dir %s: no such folder (train first, or pass "
                            "--checkpoint_dir/--checkpoint of a trained model)" % directory)
        path = checkpoints.find(directory)
        if path is None:
            raise UserError("--checkpoint_dir %s holds no checkpoint (no `checkpoint` index "
                            "file): train first, or pass --checkpoint PREFIX" % directory)
    spec = config.checkpoint_spec(args, directory)
    if spec is None:
        print("note: no %s beside %s: using --input_shape %s --filters %s --model %s from the "
              "flags" % (config.CONFIG_FILE, path, " ".join(map(str, args.input_shape)),
                         " ".join(map(str, args.filters)), args.model))
        spec = config.model_spec(args)
    return path, directory, spec


class Generators(OwnsSession):
    """`G_X` and `G_Y` of a checkpoint in inference mode, in their own graph and session.

    Attributes: `path` (the checkpoint prefix), `directory` (its folder),
    `spec` (its `config.ModelSpec`), `shape` (`[T, H, W, 3]` the model
    takes), `graph`, `session`, `variables` (the restored variables: weights
    and batch-norm statistics), `averaged` (whether they were restored from
    the checkpoint's weight average, `average.py`: when it holds one). Clips are translated `batch_size` at a time;
    `session_config` configures the session.
    """

    def __init__(self, spec, path, directory, batch_size, session_config=None):
        self.path, self.directory, self.spec = path, directory, spec
        self.shape = list(spec.input_shape)
        self.batch_size = batch_size
        self.graph = tf.Graph()
        with self.graph.as_default():
            nets = build_networks(spec.filters, 0.0, symbols=GENERATORS, model=spec.model,
                                  output_filters=spec.output_filters)
            self.clips = tf.placeholder(tf.float32, [None] + self.shape, name="clips")
            self.outputs, self.carries = {}, {}
            for direction, symbol in sorted(DIRECTIONS.items()):
                with tf.name_scope(direction):
                    self.carries[direction] = ops.StateCarry()   # zero states unless fed
                    self.outputs[direction] = getattr(nets, symbol)(
                        self.clips, is_training=False, carry=self.carries[direction])
            self.variables = [v for s in GENERATORS for v in getattr(nets, s).variables()]
            stored = checkpoints.stored_variables(path)
            self.averaged = all(average.stored_name(v.op.name) in stored for v in self.variables)
            saver, _ = checkpoints.restorer(path, self.variables, required=self.variables,
                                            stored_name=self.averaged and average.stored_name)
            # Writes the export bundle; relative paths in its `checkpoint` index.
            self.saver = tf.train.Saver(self.variables, save_relative_paths=True)
            self.session = tf.Session(graph=self.graph, config=session_config)
            try:
                checkpoints.restore(saver, self.session, path)
            except UserError:
                self.session.close()
                raise
            self.graph.finalize()

    def __call__(self, clips, direction="x2y", progress=None):
        """Translate float32 clips `[N, T, H, W, 3]` in [-1, 1] => the same shape.

        Runs `--batch_size` clips per session call; `progress` is a tqdm
        description (None: no bar).
        """
        clips = np.asarray(clips, np.float32)
        if list(clips.shape[1:]) != self.shape:
            raise ValueError("clips must be [N] + %s, got %s" % (self.shape, clips.shape))
        starts = range(0, len(clips), self.batch_size)
        outputs = [self.session.run(self.outputs[direction],
                                    {self.clips: clips[i:i + self.batch_size]})
                   for i in tqdm(starts, desc=progress, unit="batch", disable=progress is None,
                                 leave=False, dynamic_ncols=True)]
        return np.concatenate(outputs) if outputs else clips.copy()

    def stream(self, direction="x2y"):
        """A `Stream`: one video translated window after window with the
        ConvLSTM states carried between them."""
        return Stream(self, direction)


class Stream(object):
    """Translates consecutive windows of one video, `[T, H, W, 3]` float32 in
    [-1, 1] each, every window starting from the ConvLSTM states the previous
    one ended in (the first from zeros): the outputs equal those of one causal
    pass over the whole video."""

    def __init__(self, generators, direction):
        self.session, self.clips = generators.session, generators.clips
        self.output, self.carry = generators.outputs[direction], generators.carries[direction]
        self.state = None

    def reset(self):
        """The next window starts from zero states (a new video)."""
        self.state = None

    def __call__(self, window):
        feed = {self.clips: np.asarray(window, np.float32)[None]}
        if self.state is not None:
            for placeholders, values in zip(self.carry.initial, self.state):
                feed.update(zip(placeholders, values))
        out, self.state = self.session.run([self.output, self.carry.final], feed)
        return out[0]


def load_generators(args, resolved=None):
    """Find, check and restore the generators of `--checkpoint`/`--checkpoint_dir`.

    `resolved`: `resolve_checkpoint(args)` if already called. Returns a
    `Generators` (callable: clips => translated clips; close it, or use it as
    a context manager).
    """
    path, directory, spec = resolved or resolve_checkpoint(args)
    started = time.time()
    generators = Generators(spec, path, directory, args.batch_size,
                            session_config(args.num_gpus, args.grappler))
    print("restored G_X, G_Y%s from %s (T H W = %s, filters %s) in %.1f s"
          % (" (their weight average)" if generators.averaged else "", path,
             " ".join(map(str, generators.shape[:3])),
             " ".join(map(str, spec.filters)), time.time() - started))
    return generators


# ----------------------------------------------------------------------------
# --mode eval

def evaluate(args):
    """`--mode eval`: metrics of G_Y on the test clips of X, and sample videos.

    Translates `--eval_batches` x `--batch_size` test clips of X (the train
    clips, with a warning, when the test split is empty), computes
    `metrics.evaluate_clips` against the paired ground truth (synthetic data)
    and real Y clips (the FID reference), prints the table, writes
    `metrics.json` beside the checkpoint and side-by-side MP4/GIF samples to
    `--samples_dir`. Returns the metrics dict.
    """
    generators = load_generators(args)
    path, directory = generators.path, generators.directory
    out = os.path.join(directory, METRICS_FILE)
    folder = args.samples_dir or os.path.join(directory, "samples")
    try:    # where the results go, checked before the slow work
        check_destination(out, "metrics file")
        check_destination(folder, "--samples_dir", folder=True)
    except UserError:
        generators.close()
        raise
    args = config.with_architecture(args, generators.spec)   # the dataset at the model's shape
    with generators:
        ds = data.ensure_dataset(args)
        source, truth, target, split = data.eval_clips(ds, args.eval_batches * args.batch_size)
        n = len(source)
        translated = data.to_uint8(generators(data.to_float(source), "x2y",
                                              progress="eval x2y (%d clips)" % n))

    features, fid_note = None, None
    if args.inception_path == NO_FID:
        fid_note = "--inception_path %s: FID not computed" % NO_FID
    else:
        try:
            features = metrics.InceptionFeatures(args.inception_path)
        except metrics.InceptionUnavailable as e:
            if args.inception_path is not None:   # the user named a graph: it must work
                raise
            fid_note = str(e)
    if fid_note:
        print("note: FID is n/a: %s" % fid_note)
    try:
        results = metrics.evaluate_clips(source, translated, ground_truth=truth,
                                         features=features, target=target,
                                         synthetic=args.dataset == "synthetic")
    finally:
        if features is not None:
            features.close()

    print("%s on %d %s clips of X (%s, T H W = %s):"
          % (os.path.basename(path), n, split, args.dataset,
             " ".join(map(str, args.input_shape[:3]))))
    print(metrics.format_table(results))
    report = {"checkpoint": os.path.abspath(path), "step": _step(path),
              "dataset": args.dataset, "data": os.path.abspath(ds.root), "split": split,
              "clips": n, "input_shape": list(args.input_shape), "direction": "x2y",
              "metrics": {k: (float(v) if isinstance(v, (float, int, np.number)) else v)
                          for k, v in results.items()}}
    if fid_note:
        report["fid_note"] = fid_note
    write_json(out, report)
    print("wrote %s" % out)
    written = write_samples(folder, os.path.basename(path), source, translated, truth)
    print("wrote %d sample videos (source | translated%s) to %s: %s"
          % (len(written), " | ground truth" if truth is not None else "", folder,
             ", ".join(os.path.basename(p) for p in written)))
    return results


def _step(path):
    """The training step in a checkpoint prefix `<name>-<step>`, or None."""
    suffix = os.path.basename(path).rsplit("-", 1)[-1]
    return int(suffix) if "-" in os.path.basename(path) and suffix.isdigit() else None


def write_samples(folder, name, source, translated, truth=None, count=SAMPLE_CLIPS):
    """`<folder>/<name>_x2y_<k>.mp4` and `.gif`: source | translated [| ground truth]
    side by side; `.png`: the same as rows of frames (`video_io.strip`)."""
    written = []
    for k in range(min(count, len(source))):
        panels = [source[k], translated[k]] + ([truth[k]] if truth is not None else [])
        frames = video_io.side_by_side(*panels)
        base = os.path.join(folder, "%s_x2y_%d" % (name, k))
        video_io.write_video(base + ".mp4", frames, SAMPLE_FPS)
        video_io.write_gif(base + ".gif", frames, SAMPLE_FPS)
        video_io.write_image(base + ".png", video_io.strip(*panels))
        written += [base + ".mp4", base + ".gif", base + ".png"]
    return written


# ----------------------------------------------------------------------------
# --mode translate

def _check_output(output, input_path):
    """Fail before any slow work when --output cannot be written."""
    if not output:
        raise UserError("--mode translate needs --output OUT.mp4")
    if os.path.splitext(output)[1].lower() != ".mp4":
        raise UserError("--output %s: must end in .mp4 (an H.264 MP4 is written)" % output)
    if os.path.abspath(output) == os.path.abspath(input_path) or (
            os.path.exists(output) and os.path.exists(input_path)
            and os.path.samefile(output, input_path)):    # the same file, links resolved
        raise UserError("--output %s is the input: choose another file" % output)
    if os.path.isfile(output) and not video_io.is_video(output):
        raise UserError("--output %s exists and is not a video: remove it or choose another "
                        "name (an existing video is replaced)" % output)
    check_destination(output, "--output")


def translate_windows(generators, windows, direction="x2y", state="carry"):
    """Translate consecutive uint8 windows `[n <= T, h, w, 3]` of one video
    (any h, w; n < T only for the last) => the translated windows, same
    shapes, one at a time.

    Each is resized to the model's H x W, padded to T frames by repeating its
    last frame (padded outputs are dropped), translated from the previous
    window's final ConvLSTM states (`state` "carry") or from zeros ("reset"),
    and resized back.
    """
    T, H, W, _ = generators.shape
    stream = generators.stream(direction)
    for frames in windows:
        n, h, w = frames.shape[:3]
        clip = data.to_float(video_io.resize(frames, H, W))
        clip = np.concatenate([clip, np.repeat(clip[-1:], T - n, axis=0)])
        if state == "reset":
            stream.reset()
        yield video_io.resize(data.to_uint8(stream(clip)[:n]), h, w)


def translate_frames(generators, frames, direction="x2y", state="carry"):
    """uint8 `[N, h, w, 3]` frames of any N, h, w => their translation, same
    shape (`translate_windows` on consecutive windows of T frames)."""
    T = generators.shape[0]
    windows = (frames[i:i + T] for i in range(0, len(frames), T))
    return np.concatenate(list(translate_windows(generators, windows, direction, state)))


def translate(args):
    """`--mode translate --input VIDEO_OR_FRAME_DIR --output OUT.mp4 [--direction] [--state]`.

    Direction x2y uses G_Y, y2x uses G_X. The output keeps the input's frame
    count, resolution and frame rate (25 fps for a frame folder). The flags,
    the checkpoint and the input are checked before anything is decoded or
    written; frames stream through in windows of T (module docstring); the
    MP4 appears under its name only once complete.
    """
    if not args.input:
        raise UserError("--mode translate needs --input VIDEO_FILE_OR_FRAME_FOLDER")
    _check_output(args.output, args.input)
    with load_generators(args) as generators, video_io.VideoReader(args.input) as reader:
        (h, w), fps, T = reader.size, reader.fps, generators.shape[0]
        print("reading %s: %s frames, %dx%d, %.3g fps" % (args.input, reader.count or "?", w, h,
                                                          fps))
        started, n = time.time(), 0
        with video_io.video_writer(args.output, fps, (h, w)) as write:
            bar = tqdm(total=reader.count or None, desc="translate %s" % args.direction,
                       unit="frame", dynamic_ncols=True, leave=False)
            with bar:
                for out in translate_windows(generators, reader.windows(T), args.direction,
                                             args.state):
                    write(out)
                    n += len(out)
                    bar.update(len(out))
    _, H, W, _ = generators.shape
    print("wrote %s: %d frames, %dx%d, %.3g fps (%s by %s at %dx%d in windows of %d frames, "
          "state %s, %.1f s)" % (args.output, n, w, h, fps, args.direction,
                                 DIRECTIONS[args.direction], W, H, T, args.state,
                                 time.time() - started))


# ----------------------------------------------------------------------------
# --mode export

def _size(paths):
    return sum(os.path.getsize(p) for p in paths if os.path.isfile(p))


def checkpoint_files(path):
    """The files of checkpoint prefix `path` (`.index`, `.data-*`)."""
    folder, base = os.path.split(os.path.abspath(path))
    return [os.path.join(folder, f) for f in os.listdir(folder)
            if f == base + ".index" or f.startswith(base + ".data-")]


def export(args):
    """`--mode export --export_dir OUT`: the inference-only bundle of a checkpoint.

    OUT holds `<name>-<step>` with only G_X and G_Y (weights and batch-norm
    moving statistics; no discriminators, predictors, critics, targets or
    optimizer slots), the `checkpoint` index (relative paths, so the folder
    can be moved) and config.json. It is written to a temporary folder beside
    OUT and renamed into place; an existing non-empty OUT is refused.
    """
    if not args.export_dir:
        raise UserError("--mode export needs --export_dir OUT")
    out = os.path.abspath(args.export_dir)
    check_destination(args.export_dir, "--export_dir", folder=True)
    if os.path.isdir(out) and os.listdir(out):
        raise UserError("--export_dir %s exists and is not empty: remove it or choose another"
                        % args.export_dir)
    with atomic_path(out, folder=True) as tmp:
        with load_generators(args) as generators:
            prefix = generators.saver.save(
                generators.session, os.path.join(tmp, os.path.basename(generators.path)),
                write_meta_graph=False)
        saved = config.load_config(generators.directory)
        saved = config.to_dict(args) if saved is None else saved
        write_json(os.path.join(tmp, config.CONFIG_FILE),
                    config.bundle_config(saved, generators.path))
    bundle = [os.path.join(out, f) for f in os.listdir(out)]
    full = _size(checkpoint_files(generators.path))
    size = _size(bundle)
    print("exported %s (%d variables of G_X, G_Y) to %s: %.2f MB (the checkpoint: %.2f MB). "
          "Use it with --checkpoint_dir %s" % (generators.path, len(generators.variables),
                                               args.export_dir, size / 1e6, full / 1e6,
                                               args.export_dir))
    return os.path.join(out, os.path.basename(prefix))
