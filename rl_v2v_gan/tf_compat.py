"""The single place that imports TensorFlow in TF1 graph mode.

Works with TensorFlow 1.15 and 2.x (through `tensorflow.compat.v1`).
"""
import contextlib
import os
import sys

# TensorFlow's start-up logging (C++ and Python) is off unless the user asks
# for it with TF_CPP_MIN_LOG_LEVEL=0 (or 1): the first lines a command
# prints are its own.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
QUIET = os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("0", "1")
# TensorFlow 2.x imports Keras 3 eagerly (and through it matplotlib), ~1.5 s
# of every command's start; nothing here uses Keras. Pointing tf.keras at the
# legacy package, which is not installed, skips that import (TensorFlow
# catches the ImportError). TF 1.15 ignores the variable.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")



@contextlib.contextmanager
def _stderr_silenced(silence):
    """File descriptor 2 points at /dev/null inside the block (if `silence`).
    TensorFlow 2.21's C++ libraries log at load time, before absl's logging
    reads TF_CPP_MIN_LOG_LEVEL ("oneDNN custom operations are on" on CPUs
    with AVX-512); an import error is still raised, and printed after."""
    if not silence:
        yield
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


with _stderr_silenced(QUIET):
    import tensorflow.compat.v1 as tf  # noqa: E402

if QUIET:
    tf.logging.set_verbosity(tf.logging.ERROR)
tf.disable_v2_behavior()


def session_config(devices=1, grappler="on", worker=None):
    """Session settings: `devices` virtual CPU devices (CPU towers), soft
    placement, and Grappler (TensorFlow's graph optimizer) "on" or "off".
    Graph-function calls (the ConvLSTM recurrences) are inlined into the
    executed graph either way: called as functions, a pre-training step at
    the CPU preset took ~5% longer. In a cluster, worker `worker`'s sessions
    see only the parameter servers and itself, so it neither waits for nor
    depends on the other workers (which may have finished already)."""
    config = tf.ConfigProto(allow_soft_placement=True)
    if worker is not None:
        config.device_filters.extend(["/job:ps", "/job:worker/task:%d" % worker])
    config.graph_options.optimizer_options.do_function_inlining = True
    if devices > 1:
        config.device_count["CPU"] = devices
    if grappler == "off":
        config.graph_options.rewrite_options.disable_meta_optimizer = True
    return config


def check_bfloat16():
    """None if this TensorFlow runs a bfloat16 convolution and its gradients
    on this machine (`--precision bf16`), else why not (one line)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.ones([1, 4, 4, 8], tf.bfloat16)
        y = tf.nn.conv2d(x, tf.ones([3, 3, 8, 8], tf.bfloat16), [1, 1, 1, 1], "SAME")
        grads = tf.gradients(tf.reduce_sum(tf.cast(y, tf.float32)), [x])
    try:
        with tf.Session(graph=graph) as sess:
            sess.run([y, grads])
    except (tf.errors.OpError, TypeError, ValueError) as e:
        return "TensorFlow %s cannot compute bfloat16 convolutions here (%s)" % (
            tf.__version__, str(e).strip().splitlines()[0][:200])
    return None


class OwnsSession(object):
    """Base of objects that own a `self.session`: `close()` it, or use the
    object as a context manager."""

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["tf", "OwnsSession", "check_bfloat16", "session_config"]
