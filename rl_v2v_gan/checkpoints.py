"""Checkpoint lookup and checked restore, shared by training, eval and translate.

Checkpoints are standard `tf.train.Saver` files `<dir>/<name>-<step>` with
the `checkpoint` index file, so `tf.train.latest_checkpoint` finds them. TF
writes the data to a temporary name and updates the index file atomically,
so a run killed mid-save leaves the previous checkpoint as the latest.
"""
import os

from .errors import UserError
from .tf_compat import tf

OPTIMIZER_SLOT = "/Adam_"


def find(directory=None, explicit=None):
    """The checkpoint prefix to restore: `explicit`, or the latest in `directory`."""
    if explicit:
        if not tf.train.checkpoint_exists(explicit):
            raise UserError("--checkpoint %s: no such checkpoint (expected %s.index)"
                            % (explicit, explicit))
        return explicit
    if directory and os.path.isdir(directory):
        return tf.train.latest_checkpoint(directory)
    return None


def read_variable(path, name):
    """The value of variable `name` stored in checkpoint `path`."""
    return tf.train.load_checkpoint(path).get_tensor(name)


def restorer(path, var_list, required):
    """A Saver restoring `var_list` from `path`, after checking compatibility.

    Every variable in `required` must be in the checkpoint and every variable
    found there must have the graph's shape; otherwise a UserError lists the
    mismatched variables (never a silent partial restore). Returns
    `(saver, missing)` where `missing` are the variables of `var_list` the
    checkpoint lacks (to be initialized fresh by the caller).
    """
    stored = dict(tf.train.list_variables(path))
    names = {v.op.name for v in required}
    problems, present, missing = [], [], []
    for v in var_list:
        name, shape = v.op.name, v.shape.as_list()
        if name not in stored:
            (problems.append("%s: missing" % name) if name in names else missing.append(v))
        elif list(stored[name]) != shape:
            problems.append("%s: checkpoint %s, model %s" % (name, list(stored[name]), shape))
        else:
            present.append(v)
    if problems:
        shown = "; ".join(problems[:8]) + ("; ... (%d in all)" % len(problems)
                                           if len(problems) > 8 else "")
        raise UserError("checkpoint %s does not match this model (check --input_shape, "
                        "--filters, --model): %s" % (path, shown))
    return tf.train.Saver(present), missing


def network_variables(var_list, scopes):
    """The weights and batch-norm statistics of the given network scopes
    (no optimizer slots)."""
    return [v for v in var_list if v.op.name.split("/")[0] in scopes
            and OPTIMIZER_SLOT not in v.op.name]
