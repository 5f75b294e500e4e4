"""The on-disk format of a prepared dataset, and `Dataset`, its reader.

`<data_dir>/<dataset>/` holds one uint8 `.npy` array per domain and split,
opened memory-mapped, and `meta.json`:

    X_train.npy  X_test.npy        [N, T, H, W, 3]  source videos x
    X_gt_*.npy   (synthetic only)  [N, T, H, W, 3]  x rendered in the target style
    Y_*.npy  Z_*.npy               [N, T, H, W, 3]  target videos y, target-style videos z
    Z_hat_*.npy                    [N, H, W, 3]     target-style images ẑ
    meta.json   version, dataset, input_shape, seed, arrays (shapes), counts,
                sources, and the builder's settings

Only X (with X_gt) has a held-out test split; the few Y, Z and Ẑ samples all
train (few-shot), so their test arrays are empty. A dataset is written to a
temporary folder beside its final place and renamed into place at the end, so
an interrupted or failed run leaves the previous dataset as it was.
"""
import json
import os
import re

import numpy as np

from ..errors import UserError
from ..files import atomic_path

FORMAT_VERSION = 1
META_FILE = "meta.json"
CLIP_DOMAINS = ("X", "X_gt", "Y", "Z")
IMAGE_DOMAIN = "Z_hat"
SPLITS = ("train", "test")
TEST_FRACTION = 0.15  # of the X clips, held out (at least one)


def array_name(domain, split):
    return "%s_%s" % (domain, split)


def dataset_dir(args):
    """Where the prepared `--dataset` lives: `<data_dir>/<dataset>`."""
    return os.path.join(args.data_dir, args.dataset)


def test_count(n, fraction=TEST_FRACTION):
    """How many of n clips to hold out: round(fraction * n), at least 1 when n >= 2."""
    return 0 if n < 2 else min(n - 1, max(1, int(round(fraction * n))))


def check_replaceable(root):
    """Refuse to overwrite a folder that is not a prepared dataset."""
    if os.path.exists(root) and not os.path.isfile(os.path.join(root, META_FILE)) \
            and (not os.path.isdir(root) or os.listdir(root)):
        raise UserError("%s exists and is not a prepared dataset (no %s): move it away or "
                        "choose another --data_dir" % (root, META_FILE))


def write(root, splits, meta):
    """Save `splits` = {split: {domain: uint8 array}} and `meta` at `root`, atomically.

    A domain missing from the test split gets an empty test array. Returns
    the bytes written. `meta` gains `version`, `arrays` (shapes) and `counts`.
    """
    check_replaceable(root)
    try:
        return _write(root, splits, meta)
    except OSError as e:      # disk full, permissions: nothing half-written is left
        raise UserError("cannot write the dataset to %s: %s" % (root, e.strerror or e))


def _write(root, splits, meta):
    arrays = {}
    for domain, train in splits["train"].items():
        arrays[array_name(domain, "train")] = train
        arrays[array_name(domain, "test")] = splits["test"].get(domain, train[:0])
    with atomic_path(root, folder=True) as tmp:
        meta = dict(meta, version=FORMAT_VERSION,
                    arrays={k: list(a.shape) for k, a in sorted(arrays.items())},
                    counts={k: len(a) for k, a in sorted(arrays.items())})
        for key, array in arrays.items():
            assert array.dtype == np.uint8, key
            np.save(os.path.join(tmp, key + ".npy"), array)
        with open(os.path.join(tmp, META_FILE), "w") as f:
            f.write(_to_json(meta))
        size = folder_size(tmp)
    return size


def _to_json(meta):
    """Indented JSON, with lists of numbers (shapes, clip origins) kept on one line.

    Only an indented list starts with "[" + newline: a string never holds a raw newline.
    """
    text = json.dumps(meta, indent=1, sort_keys=True)
    return re.sub(r"\[\n[-\d.,\s]*\]", lambda m: re.sub(r"\s+", "", m.group()), text) + "\n"


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))


class Dataset(object):
    """A prepared dataset: `meta` (meta.json) and memory-mapped uint8 arrays."""

    def __init__(self, root):
        self.root = root
        path = os.path.join(root, META_FILE)
        if not os.path.isfile(path):
            raise UserError("%s: no prepared dataset (%s is missing)" % (root, META_FILE))
        try:
            with open(path) as f:
                self.meta = json.load(f)
        except ValueError as e:
            raise UserError("%s: not valid JSON (%s); re-run --mode prepare_data" % (path, e))
        version = self.meta.get("version")
        if version != FORMAT_VERSION:
            raise UserError("%s: dataset format version %s, this code reads %d; re-run "
                            "--mode prepare_data" % (path, version, FORMAT_VERSION))
        self.shape = tuple(self.meta["input_shape"])
        self._arrays = {name: self._load(name, shape)
                        for name, shape in self.meta["arrays"].items()}

    def _load(self, name, shape):
        path = os.path.join(self.root, name + ".npy")
        try:  # an empty array cannot be memory-mapped on old numpy
            array = np.load(path, mmap_mode="r" if shape[0] else None)
        except (OSError, ValueError) as e:
            raise UserError("%s: unreadable (%s); re-run --mode prepare_data" % (path, e))
        if list(array.shape) != shape or array.dtype != np.uint8:
            raise UserError("%s: %s %s, meta.json says uint8 %s; re-run --mode prepare_data"
                            % (path, array.dtype, list(array.shape), shape))
        return array

    @property
    def has_ground_truth(self):
        """True when X_gt, the paired ground truth of X, exists (synthetic data)."""
        return array_name("X_gt", "train") in self._arrays

    def clips(self, domain, split="train"):
        """uint8 [N, T, H, W, 3] clips of domain "X", "Y", "Z" or "X_gt" (memory-mapped)."""
        if domain not in CLIP_DOMAINS:
            raise ValueError("domain must be one of %s, got %r" % (CLIP_DOMAINS, domain))
        if domain == "X_gt" and not self.has_ground_truth:
            raise ValueError("dataset %r has no paired ground truth X_gt (only synthetic data "
                             "has it): check has_ground_truth" % self.meta["dataset"])
        return self._array(domain, split)

    def images(self, split="train"):
        """uint8 [N, H, W, 3] target-style images Ẑ (memory-mapped)."""
        return self._array(IMAGE_DOMAIN, split)

    def _array(self, domain, split):
        if split not in SPLITS:
            raise ValueError("split must be one of %s, got %r" % (SPLITS, split))
        return self._arrays[array_name(domain, split)]

    def summary(self):
        """Lines like "X      train   31  test    6" for each domain."""
        lines = []
        for domain in CLIP_DOMAINS + (IMAGE_DOMAIN,):
            if domain == "X_gt" and not self.has_ground_truth:
                continue
            counts = [len(self._array(domain, s)) for s in SPLITS]
            unit = "images" if domain == IMAGE_DOMAIN else "clips"
            lines.append("  %-6s train %5d  test %5d %s" % ((domain,) + tuple(counts) + (unit,)))
        return lines

    def __repr__(self):
        return "Dataset(%r, shape=%s)" % (self.root, self.shape)
