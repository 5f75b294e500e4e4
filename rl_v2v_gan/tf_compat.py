"""The single place that imports TensorFlow in TF1 graph mode.

Works with TensorFlow 1.15 and 2.x (through `tensorflow.compat.v1`).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow.compat.v1 as tf  # noqa: E402

tf.logging.set_verbosity(tf.logging.ERROR)
tf.disable_v2_behavior()

__all__ = ["tf"]
