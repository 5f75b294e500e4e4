"""The single place that imports TensorFlow in TF1 graph mode.

Works with TensorFlow 1.15 and 2.x (through `tensorflow.compat.v1`).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow.compat.v1 as tf  # noqa: E402

tf.logging.set_verbosity(tf.logging.ERROR)
tf.disable_v2_behavior()



class OwnsSession(object):
    """Base of objects that own a `self.session`: `close()` it, or use the
    object as a context manager."""

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["tf", "OwnsSession"]
