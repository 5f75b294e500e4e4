"""Data (paper §6.1): datasets, their on-disk format, and the input pipeline.

    prepare(args)         --mode prepare_data: build <data_dir>/<dataset> at --input_shape
    ensure_dataset(args)  the prepared Dataset, generating the synthetic one if missing
    eval_clips(ds, n)     the held-out clips of X that eval and --eval_every translate
    Dataset               meta.json + memory-mapped uint8 clips (storage.py)
    Sampler               random float32 batches in [-1, 1] (pipeline.py)
    to_float, to_uint8    uint8 [0, 255] <-> float32 [-1, 1]

Datasets: `synthetic` is generated (synthetic.py); `flower`, `city` and
`custom` are built from the folders of videos and images in --raw_dir
(folders.py).
"""
import os
import time

import numpy as np

from ..errors import UserError
from . import folders, synthetic
from .pipeline import Sampler, to_float, to_uint8  # noqa: F401
from .storage import META_FILE, Dataset, check_replaceable, dataset_dir, write

__all__ = ["prepare", "ensure_dataset", "eval_clips", "Dataset", "Sampler", "to_float", "to_uint8"]


def _shape_flag(shape):
    return " ".join(str(n) for n in shape)


def prepare(args, **options):
    """Build --dataset at --input_shape into <data_dir>/<dataset>, print a summary, return it.

    `options` go to the builder: `synthetic.generate` (x_frames, y_frames,
    z_frames, z_hat_images) or `folders.build` (stride). The previous dataset
    stays in place until the new one is complete.
    """
    start = time.time()
    root = dataset_dir(args)
    check_replaceable(root)  # fail before the slow part
    shape = tuple(args.input_shape)
    if args.dataset == "synthetic":
        arrays, meta = synthetic.generate(shape, args.seed, **options)
    else:
        arrays, meta = folders.build(args.raw_dir, shape, args.seed, **options)
    meta.update(dataset=args.dataset, input_shape=list(shape), seed=args.seed)
    size = write(root, arrays, meta)
    dataset = Dataset(root)
    print("prepared %s in %s: T H W C = %s, %.1f MB, %.1f s"
          % (args.dataset, root, _shape_flag(shape), size / 1e6, time.time() - start))
    print("\n".join(dataset.summary()))
    return dataset


def ensure_dataset(args, **options):
    """The prepared --dataset, opened; the synthetic one is generated first if missing.

    Raises UserError when another dataset was never prepared, or when it was
    prepared at a shape other than --input_shape.
    """
    root = dataset_dir(args)
    command = "python main.py --mode prepare_data --dataset %s%s --data_dir %s --input_shape %s" % (
        args.dataset, "" if args.dataset == "synthetic" else " --raw_dir DIR", args.data_dir,
        _shape_flag(args.input_shape))
    if not os.path.isfile(os.path.join(root, META_FILE)):
        if args.dataset != "synthetic":
            raise UserError("no prepared %s dataset in %s: run `%s` first"
                            % (args.dataset, root, command))
        print("no synthetic dataset in %s: generating it" % root)
        return prepare(args, **options)
    dataset = Dataset(root)
    wanted, found = _shape_flag(args.input_shape), _shape_flag(dataset.shape)
    if wanted != found:
        raise UserError("--input_shape %s does not match the dataset in %s, prepared at %s: "
                        "re-run `%s` to replace it, or use another --data_dir"
                        % (wanted, root, found, command))
    return dataset


def eval_clips(ds, n):
    """The first n clips of X to evaluate, as uint8 arrays.

    Returns `(source, ground_truth or None, target or None, split)`: the test
    split of X (the train split, with a warning, when it is empty), its paired
    ground truth (synthetic data), and the real Y clips (the FID reference).
    """
    split = "test"
    if not len(ds.clips("X", split)):
        split = "train"
        print("warning: %s has no test clips of X: evaluating on train clips, which the "
              "model was trained on" % ds.root)
    source = np.asarray(ds.clips("X", split)[:n])
    if not len(source):
        raise UserError("%s has no clips of X to evaluate" % ds.root)
    truth = np.asarray(ds.clips("X_gt", split)[:n]) if ds.has_ground_truth else None
    target = np.asarray(ds.clips("Y", "train"))
    return source, truth, (target if len(target) else None), split
