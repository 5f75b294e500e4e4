"""The training loop (`--mode train`): pre-training epochs on eq. (10), then
Algorithm 1 epochs; checkpoints every epoch, resume, signals, logging.

Each phase builds its graph once and finalizes it; the loop only feeds and
fetches. Re-running the same command resumes from the latest checkpoint.
"""
import collections
import contextlib
import math
import os
import shutil
import signal
import time

import numpy as np
from tqdm import tqdm

from . import checkpoints, data, distributed, monitor, parallel, tf_compat, video_io
from .config import load_config, save_config, saved_architecture
from .errors import UserError
from .files import LOCK_FILE, locked
from .model import TrainGraph
from .networks import DISCRIMINATORS, POLICY
from .rl import Algorithm1, ReplayBuffer
from .tf_compat import tf

SHOWN = {"pretrain": ("G_loss", "D_loss", "L_v"), "rl": ("reward", "critic_td", "D_loss")}


def session_config(args, cluster=None):
    """`tf_compat.session_config` from the flags (and this worker's task in a cluster)."""
    return tf_compat.session_config(args.num_gpus, args.grappler,
                                    cluster.task_index if cluster is not None else None)


def check_checkpoint_dir(args):
    """Refuse a checkpoint dir holding a model of another architecture."""
    saved = load_config(args.checkpoint_dir)
    if saved is None:
        return
    saved = saved_architecture(saved)
    different = [k for k, v in saved.items() if v != getattr(args, k)]
    if different and checkpoints.find(args.checkpoint_dir):
        raise UserError("%s holds a model with other %s (%s); use another --checkpoint_dir"
                        % (args.checkpoint_dir, ", ".join("--" + k for k in different),
                           ", ".join("%s=%s" % (k, saved[k]) for k in different)))


def check_memory(args):
    """Refuse a --buffer_size whose replay buffer (allocated when Algorithm 1
    starts, after pre-training) cannot fit in this machine's memory."""
    needed = ReplayBuffer.nbytes(args.buffer_size, args.input_shape) if args.rl_epochs else 0
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if needed > total:
        raise UserError("--buffer_size %d: the replay buffer of %s clips needs %.1f GB, more "
                        "than this machine's %.1f GB of memory" % (
                            args.buffer_size, "x".join(map(str, args.input_shape)),
                            needed / 1e9, total / 1e9))


class Interrupt(object):
    """Turns SIGINT/SIGTERM into a flag checked between steps."""

    def __init__(self):
        self.signal = None

    def __enter__(self):
        self.previous = {s: signal.signal(s, self._set) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _set(self, signum, _frame):
        self.signal = signum

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


class Trainer(object):
    """One phase: graph, session, restore, epochs.

    In a cluster (`cluster`, `target` of this worker's server) variables live
    on the parameter servers; only the chief restores, saves and logs, the
    other workers wait for its initialization.
    """

    def __init__(self, args, phase, sampler, interrupt, cluster=None, target="", heldout=None,
                 static_batch=False):
        self.args, self.phase, self.sampler, self.interrupt = args, phase, sampler, interrupt
        self.heldout, self.steps_run = heldout, 0
        self.call_seconds = collections.deque(maxlen=1000)   # of the last training session calls
        self.is_chief = cluster is None or cluster.task_index == 0
        self.graph = tf.Graph()
        with self.graph.as_default(), (distributed.device_setter(cluster) if cluster
                                       else contextlib.suppress()):
            tf.set_random_seed(args.seed)
            devices = parallel.tower_devices(args.num_gpus, args.device)
            self.g = TrainGraph(args, phase, devices, static_batch)
            self.saver = tf.train.Saver(max_to_keep=args.max_to_keep, save_relative_paths=True)
            self.sess = tf.Session(target, config=session_config(args, cluster))
            self.writer = None
            if self.is_chief:
                self._restore_or_init()
                self.writer = tf.summary.FileWriter(os.path.join(args.checkpoint_dir, "logs"))
            else:
                distributed.wait_for_chief(self.sess, tf.report_uninitialized_variables())
            self.graph.finalize()
        self.step = int(self.sess.run(self.g.global_step))
        if phase == "rl":
            self.algorithm1 = Algorithm1(self.g, sampler, args, self._run)

    def _restore_or_init(self):
        all_vars = tf.global_variables()
        path = checkpoints.find(self.args.checkpoint_dir)
        if path is None:
            self.sess.run(tf.global_variables_initializer())
            fresh = all_vars
        else:
            required = self.g.model_variables(POLICY + DISCRIMINATORS)
            saver, fresh = checkpoints.restorer(path, all_vars, required)
            checkpoints.restore(saver, self.sess, path)
            # Older checkpoints of the folder stay under --max_to_keep's rotation.
            self.saver.recover_last_checkpoints(
                tf.train.get_checkpoint_state(self.args.checkpoint_dir).all_model_checkpoint_paths)
            self.sess.run(tf.variables_initializer(fresh))
            print("restored %s%s" % (path, "; initialized fresh: %s" % summarize(fresh)
                                     if fresh else ""))
        if self.g.average is not None and set(fresh) & set(self.g.average.variables):
            self.sess.run(self.g.average.reset)    # G_avg ← G
        if self.phase == "rl" and set(fresh) & set(self.g.target_variables):
            self.sess.run(self.g.init_targets)    # μ' ← μ, Q' ← Q
        if self.phase == "rl":
            print("replay buffer B starts empty (it is not saved in checkpoints)")

    # -- steps ------------------------------------------------------------
    def _run(self, fetches, feed):
        """One training session call, its duration appended to `call_seconds`."""
        started = time.perf_counter()
        out = self.sess.run(fetches, feed)
        self.call_seconds.append(time.perf_counter() - started)
        return out

    def pretrain_step(self, rng):
        """One gradient step on eq. (10) with random recycle steps t; returns its metrics."""
        sampler, B, T = self.sampler, self.args.batch_size, self.args.input_shape[0]
        i = self.g.pretrain.inputs
        feed = {i["x"]: sampler.clips("X", B), i["y"]: sampler.clips("Y", B),
                i["z"]: sampler.clips("Z", B), i["z_hat"]: sampler.images(B),
                i["t_x"]: rng.randint(1, T, B),
                i["t_yz"]: rng.randint(1, T, 2 * B)}
        _, _, metrics = self._run([self.g.pretrain.op, self.g.advance,
                                       self.g.pretrain.metrics], feed)
        self.step += 1
        return metrics

    def rl_step(self, video, rng):
        """One iteration of Algorithm 1's inner loop for the training video υ
        (`(membership, index)`, `rl.Algorithm1.iteration`); returns its metrics."""
        metrics = self.algorithm1.iteration(video, rng)
        self.step += 1
        return metrics

    # -- epochs -----------------------------------------------------------
    def run_epoch(self, epoch):
        """The rest of epoch `epoch` (all of it, or what an interrupted run left:
        the run continues at its global step, so it ends at --epochs x
        --steps_per_epoch steps with the schedule of an uninterrupted run).
        Returns the mean metrics, or None when interrupted."""
        args = self.args
        rng = np.random.RandomState(args.seed * 1000003 + epoch)
        videos = self.sampler.videos()
        order = rng.permutation(len(videos))
        totals, done = {}, 0
        first = min(max(self.step - epoch * args.steps_per_epoch, 0), args.steps_per_epoch)
        bar = tqdm(range(first, args.steps_per_epoch), initial=first, total=args.steps_per_epoch,
                   desc="epoch %d/%d %s" % (epoch + 1, args.epochs, self.phase),
                   leave=False, dynamic_ncols=True)
        for k in bar:
            if self.phase == "pretrain":
                metrics = self.pretrain_step(rng)
            else:
                metrics = self.rl_step(videos[order[k % len(order)]], rng)
            bad = [n for n, v in metrics.items() if not math.isfinite(float(v))]
            if bad:
                last = checkpoints.find(args.checkpoint_dir)
                raise UserError("non-finite %s at step %d (epoch %d); stopped without saving (%s; "
                                "try a lower --learning_rate)" % (
                                    ", ".join(bad), self.step, epoch + 1,
                                    "the last good checkpoint %s is kept" % last if last
                                    else "no checkpoint was written yet"))
            for n, v in metrics.items():
                totals[n] = totals.get(n, 0.0) + float(v)
            done += 1
            if not self.steps_run:    # time to first step (docs/performance.md)
                tqdm.write("first %s step done %.1f s after the command started"
                           % (self.phase, time.time() - args.started))
            self.steps_run += 1
            self._log_scalars(metrics)
            if args.eval_every and self.step % args.eval_every == 0:
                self.evaluate()
            bar.set_postfix({n: "%.3g" % metrics[n] for n in SHOWN[self.phase] if n in metrics})
            if self.interrupt.signal:
                break
        bar.close()
        if self.interrupt.signal:
            return None
        if self.is_chief:
            self.sess.run(self.g.next_epoch)
        return {n: v / max(done, 1) for n, v in totals.items()}

    def _log_scalars(self, metrics):
        if self.writer is None:
            return
        prefix = {"pretrain": "gan/", "rl": "rl/"}[self.phase]
        names = {"critic_td": "ddpg/critic_loss", "actor_loss": "ddpg/actor_loss",
                 "q": "ddpg/q", "reward": "rl/reward"}
        summary = tf.Summary(value=[tf.Summary.Value(
            tag=names.get(n, ("gan/" if n.startswith(("D_", "G_", "L_")) else prefix) + n),
            simple_value=float(v)) for n, v in metrics.items()])
        self.writer.add_summary(summary, self.step)

    def evaluate(self):
        """Held-out metrics of the current G_Y (`--eval_every`): eval.csv,
        TensorBoard `eval/...` and one printed line. Chief only."""
        if self.heldout is None or not self.is_chief:
            return None
        run = lambda preview: lambda clips: self.sess.run(preview, {self.g.preview_input: clips})
        raw = run(self.g.preview_raw) if self.g.preview_raw is not self.g.preview else None
        row = self.heldout(run(self.g.preview), self.step, raw)
        shown = [(k, row[k]) for k in monitor.METRIC_KEYS + monitor.RAW_KEYS
                 if row.get(k) is not None]
        if self.writer is not None:
            self.writer.add_summary(tf.Summary(value=[
                tf.Summary.Value(tag="eval/" + k, simple_value=v) for k, v in shown]), self.step)
        tqdm.write("eval step %d (%.0f s): %s" % (self.step, row["seconds"], " ".join(
            "%s %.4g" % kv for kv in shown)))
        return row

    def log_preview(self):
        """A few X -> Y translated clips as TensorBoard images (source over
        result, `video_io.strip` as in eval/ and the eval samples)."""
        if self.writer is None:
            return
        clips = self.sampler.clips("X", 2)
        out = self.sess.run(self.g.preview, {self.g.preview_input: clips})
        values = []
        for j in range(len(clips)):
            image = video_io.strip(data.to_uint8(clips[j]), data.to_uint8(out[j]))
            values.append(tf.Summary.Value(tag="samples/x_to_y_%d" % j, image=tf.Summary.Image(
                height=image.shape[0], width=image.shape[1], colorspace=3,
                encoded_image_string=video_io.encode_png(image))))
        self.writer.add_summary(tf.Summary(value=values), self.step)

    def save(self):
        """Checkpoint `<dir>/<name>-<step>` (chief only; None elsewhere)."""
        if not self.is_chief:
            return None
        path = checkpoints.save(self.saver, self.sess, os.path.join(
            self.args.checkpoint_dir, self.args.checkpoint_name), self.step)
        self.writer.flush()
        return path

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.sess.close()


def summarize(variables):
    """Short description of a variable list by top-level scope."""
    scopes = sorted({v.op.name.split("/")[0] for v in variables})
    return ", ".join(scopes)


def completed(args, counter):
    """The counter variable ("epoch" or "global_step") of the latest checkpoint
    (0 if none, or a foreign one: the checked restore then reports what does
    not match)."""
    path = checkpoints.find(args.checkpoint_dir)
    if path is None or counter not in checkpoints.stored_variables(path):
        return 0
    return int(checkpoints.read_variable(path, counter))


def train(args):
    """`--mode train`: pre-training then Algorithm 1, resuming if possible.

    In a cluster a parameter server only serves; workers train.
    """
    cluster = distributed.from_args(args)
    server = distributed.start_server(cluster, session_config(args)) if cluster else None
    if cluster and cluster.job_name == "ps":
        print("parameter server %d serving at %s" % (
            cluster.task_index, cluster.spec.task_address("ps", cluster.task_index)))
        server.join()
        return
    target = server.target if server else ""
    is_chief = cluster is None or cluster.task_index == 0
    check_memory(args)
    if args.precision == "bf16":
        problem = tf_compat.check_bfloat16()
        if problem:
            raise UserError("--precision bf16: %s; use --precision fp32" % problem)
    if is_chief:
        check_checkpoint_dir(args)
        created = not os.path.exists(args.checkpoint_dir)
        with locked(args.checkpoint_dir):
            try:
                return _train(args, cluster, target, is_chief)
            except BaseException:
                if created:
                    _remove_if_no_checkpoint(args.checkpoint_dir)
                raise
    return _train(args, cluster, target, is_chief)


def _remove_if_no_checkpoint(folder):
    """Empty `folder`, created by a run that failed before its first checkpoint,
    of what that run wrote (config.json, logs/, eval.csv); the lock stays."""
    if tf.train.latest_checkpoint(folder) is not None:
        return
    for name in os.listdir(folder):
        if name != LOCK_FILE:
            target = os.path.join(folder, name)
            (shutil.rmtree if os.path.isdir(target) else os.remove)(target)


def _train(args, cluster, target, is_chief):
    """`train` once the checkpoint folder is checked (and locked, on the chief)."""
    if is_chief:
        removed = checkpoints.remove_partial(args.checkpoint_dir)
        if removed:
            print("removed the temporary files of an interrupted save: %s" % ", ".join(removed))
    epoch = completed(args, "epoch") if is_chief else shared_epoch(args, cluster, target)
    if epoch >= args.epochs:
        print("%s: already trained %d of %d epochs; nothing to do (raise --epochs to continue)"
              % (args.checkpoint_dir, epoch, args.epochs))
        return
    ds = data.ensure_dataset(args)
    sampler = data.Sampler(ds, seed=args.seed + (cluster.task_index if cluster else 0),
                           max_target_clips=args.max_target_clips)
    if epoch:
        print("resuming after epoch %d of %d" % (epoch, args.epochs))
    heldout = None
    if args.eval_every and is_chief:
        heldout = monitor.HeldOut(ds, args.checkpoint_dir, args.started,
                                  completed(args, "global_step"))
        print("held-out evaluation every %d steps on %d %s clips of X -> %s"
              % (args.eval_every, len(heldout.source), heldout.split, heldout.path))
    with Interrupt() as interrupt:
        while epoch < args.epochs:
            phase = "pretrain" if epoch < args.pretrain_epochs else "rl"
            end = args.pretrain_epochs if phase == "pretrain" else args.epochs
            started = time.time()
            trainer = Trainer(args, phase, sampler, interrupt, cluster, target, heldout)
            if is_chief:    # the checkpoint, if any, restored into this architecture
                save_config(args, args.checkpoint_dir)
            print("%s graph ready in %.1f s (%d ops)" % (phase, time.time() - started,
                                                       len(trainer.graph.get_operations())))
            try:
                while epoch < end:
                    started = time.time()
                    means = trainer.run_epoch(epoch)
                    if means is None:
                        path = trainer.save()
                        print("interrupted by signal %d: saved %s" % (interrupt.signal, path))
                        raise SystemExit(128 + interrupt.signal)
                    epoch += 1
                    path = trainer.save()
                    trainer.log_preview()
                    print("epoch %d/%d %s step %d %.1f s | %s | saved %s" % (
                        epoch, args.epochs, phase, trainer.step, time.time() - started,
                        " ".join("%s %.4g" % kv for kv in sorted(means.items())), path))
                if epoch == args.epochs and heldout and (
                        not heldout.rows or heldout.rows[-1]["step"] != trainer.step):
                    trainer.evaluate()    # the final model, when --eval_every missed it
            finally:
                trainer.close()


def shared_epoch(args, cluster, target):
    """A non-chief worker's starting epoch: the chief's, read from the
    parameter servers once the chief has initialized it."""
    with tf.Graph().as_default(), distributed.device_setter(cluster):
        epoch = tf.get_variable("epoch", [], tf.int64, tf.zeros_initializer(), trainable=False)
        pending = tf.report_uninitialized_variables([epoch])
        with tf.Session(target, config=session_config(args, cluster)) as sess:
            distributed.wait_for_chief(sess, pending)
            return int(sess.run(epoch))
