import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan.tf_compat import tf  # noqa: E402

TINY_FILTERS = (4, 8, 8)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The four real 11-frame clips shipped beside the repository (../shared/data/videos).
SAMPLE_VIDEOS = os.environ.get("RL_V2V_GAN_SAMPLE_VIDEOS",
                               os.path.join(os.path.dirname(ROOT), "shared", "data", "videos"))


@pytest.fixture
def graph():
    """A fresh graph as default, with a session on it."""
    g = tf.Graph()
    with g.as_default():
        yield g


@pytest.fixture
def rng():
    return np.random.RandomState(0)
