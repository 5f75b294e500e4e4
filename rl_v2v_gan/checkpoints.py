"""Checkpoint lookup and checked restore, shared by training, eval and translate.

Checkpoints are standard `tf.train.Saver` files `<dir>/<name>-<step>` with
the `checkpoint` index file, so `tf.train.latest_checkpoint` finds them. TF
writes the data to a temporary name and updates the index file atomically,
so a run killed mid-save leaves the previous checkpoint as the latest.
"""
import os

from .errors import UserError
from .tf_compat import tf


def find(directory=None, explicit=None):
    """The checkpoint prefix to restore: `explicit`, or the latest in `directory`
    (None if it has no `checkpoint` index file). A prefix whose `.index` file
    is missing is a UserError naming it."""
    if explicit:
        for suffix in (".index", ".data-00000-of-00001"):
            if explicit.endswith(suffix):
                raise UserError("--checkpoint %s: give the prefix %s, not one of its files"
                                % (explicit, explicit[:-len(suffix)]))
        if not os.path.isfile(explicit + ".index"):
            raise UserError("--checkpoint %s: no such checkpoint (expected %s.index)"
                            % (explicit, explicit))
        return explicit
    if not (directory and os.path.isdir(directory)):
        return None
    state = tf.train.get_checkpoint_state(directory)
    if state is None or not state.model_checkpoint_path:
        return None
    path = state.model_checkpoint_path     # relative paths in the file: already joined to directory
    if not os.path.isfile(path + ".index"):
        raise UserError("%s: its `checkpoint` file names %s, but %s.index is missing "
                        "(deleted or moved?)" % (directory, path, path))
    return path


def restore(saver, session, path):
    """`saver.restore`, with a truncated or corrupt checkpoint as one UserError."""
    try:
        saver.restore(session, path)
    except (tf.errors.OpError, ValueError) as e:
        raise UserError("cannot restore %s: %s (truncated or corrupt checkpoint?)"
                        % (path, getattr(e, "message", str(e)).splitlines()[0]))


def save(saver, session, prefix, step):
    """`saver.save(...)` of `<prefix>-<step>`; a failure (disk full, permissions)
    is one UserError and leaves no temporary files behind (`remove_partial`):
    the previous checkpoint stays the latest."""
    try:
        return saver.save(session, prefix, global_step=step, write_meta_graph=False)
    except (tf.errors.OpError, OSError) as e:
        remove_partial(os.path.dirname(prefix))
        raise UserError("cannot save checkpoint %s-%d: %s" % (
            prefix, step, getattr(e, "message", None) or getattr(e, "strerror", None) or e))


def remove_partial(directory):
    """Delete the temporary files of an unfinished save (`*.tempstate*`,
    left by a failed save or a process killed while saving). Returns their
    names. Only safe while no other process saves there (training holds the
    folder's lock)."""
    removed = []
    for name in os.listdir(directory):
        if ".tempstate" in name or name.startswith("checkpoint.tmp"):
            target = os.path.join(directory, name)
            if os.path.isfile(target):
                os.remove(target)
                removed.append(name)
    return removed


def read_variable(path, name):
    """The value of variable `name` stored in checkpoint `path`."""
    return tf.train.load_checkpoint(path).get_tensor(name)


def stored_variables(path):
    """`{name: shape}` of the variables in checkpoint `path` (UserError if unreadable)."""
    try:
        return dict(tf.train.list_variables(path))
    except (tf.errors.OpError, ValueError) as e:
        raise UserError("cannot read checkpoint %s: %s (not a checkpoint, or truncated?)"
                        % (path, getattr(e, "message", str(e)).splitlines()[0]))


def restorer(path, var_list, required, stored_name=None):
    """A Saver restoring `var_list` from `path`, after checking compatibility.

    Every variable in `required` must be in the checkpoint and every variable
    found there must have the graph's shape; otherwise a UserError lists the
    mismatched variables (never a silent partial restore). `stored_name`:
    the name a variable's value has in the checkpoint, from its own name
    (default: the same). Returns `(saver, missing)` where `missing` are the
    variables of `var_list` the checkpoint lacks (to be initialized fresh by
    the caller).
    """
    stored = stored_variables(path)
    names = {v.op.name for v in required}
    problems, present, missing = [], {}, []
    for v in var_list:
        name, shape = (stored_name or str)(v.op.name), v.shape.as_list()
        if name not in stored:
            (problems.append("%s: missing" % name) if v.op.name in names else missing.append(v))
        elif list(stored[name]) != shape:
            problems.append("%s: checkpoint %s, model %s" % (name, list(stored[name]), shape))
        else:
            present[name] = v
    if problems:
        shown = "; ".join(problems[:8]) + ("; ... (%d in all)" % len(problems)
                                           if len(problems) > 8 else "")
        raise UserError("checkpoint %s does not match this model (check --input_shape, "
                        "--filters, --model): %s" % (path, shown))
    return tf.train.Saver(present), missing
