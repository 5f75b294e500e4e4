import contextlib
import os
import resource
import signal
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rl_v2v_gan.tf_compat import tf  # noqa: E402

TINY_FILTERS = (4, 8, 8)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The four real 11-frame clips of the repository (City and Flower, 256x256).
SAMPLE_VIDEOS = os.path.join(ROOT, "samples")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "heavy: takes 20-90 s on 2 cores (whole training processes, large graphs); "
        "run first so that `make test`'s two workers (pytest-xdist) share them evenly")


def pytest_collection_modifyitems(items):
    """Heavy tests first (stable otherwise): `make test`'s workers, handed one
    test at a time (`--dist load --maxschedchunk 1`), start the longest jobs
    at once and fill in the short ones around them."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.fixture
def graph():
    """A fresh graph as default, with a session on it."""
    g = tf.Graph()
    with g.as_default():
        yield g


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@contextlib.contextmanager
def file_size_limit(nbytes):
    """Writes past `nbytes` of any file fail with a real OSError (EFBIG, "File
    too large") inside the block, as on a full disk: RLIMIT_FSIZE with
    SIGXFSZ ignored."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
