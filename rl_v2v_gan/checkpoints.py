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


# What TensorFlow raises on a checkpoint it cannot read: OpError (missing or
# corrupt file), IndexError ("Read less bytes than requested": a truncated
# .data file), ValueError (not a checkpoint).
UNREADABLE = (tf.errors.OpError, IndexError, ValueError)


def _unreadable(path, e):
    """The UserError for checkpoint `path` that TensorFlow could not read (`e`):
    a missing file by name, else TensorFlow's first line."""
    for suffix in (".index", ".data-00000-of-00001"):
        if not os.path.isfile(path + suffix):
            return UserError("cannot read checkpoint %s: %s%s is missing (deleted, or "
                             "removed by a training run's checkpoint rotation?)"
                             % (path, path, suffix))
    return UserError("cannot read checkpoint %s: %s (truncated or corrupt?)"
                     % (path, first_line(e)))


def first_line(e):
    """An OpError's or OSError's own words, without TensorFlow's framing (TF
    2.x wraps them in "Graph execution error:", the node, the Python stack
    and hints) or the temporary file's name."""
    text = getattr(e, "message", None) or getattr(e, "strerror", None) or str(e)
    framing = ("Graph execution error", "Detected at node", "Node:", "[[", "Hint", "Original",
               "Op:", "File \"")
    lines = [line.strip() for line in text.splitlines()]
    words = [line for line in lines if line and not line.startswith(framing)] or [type(e).__name__]
    return words[0].split("; ", 1)[-1] if ".tempstate" in words[0] else words[0]


def restore(saver, session, path):
    """`saver.restore`, with a truncated, corrupt or missing checkpoint as one UserError."""
    try:
        saver.restore(session, path)
    except UNREADABLE as e:
        raise _unreadable(path, e)


def save(saver, session, prefix, step):
    """`saver.save(...)` of `<prefix>-<step>`; a failure (disk full, permissions)
    is one UserError and leaves no temporary files behind (`remove_partial`):
    the previous checkpoint stays the latest."""
    try:
        return saver.save(session, prefix, global_step=step, write_meta_graph=False)
    except (tf.errors.OpError, OSError) as e:
        remove_partial(os.path.dirname(prefix))
        raise UserError("cannot save checkpoint %s-%d: %s" % (prefix, step, first_line(e)))


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
    """The value of variable `name` stored in checkpoint `path` (UserError if unreadable)."""
    try:
        return tf.train.load_checkpoint(path).get_tensor(name)
    except UNREADABLE as e:
        raise _unreadable(path, e)


def stored_variables(path):
    """`{name: shape}` of the variables in checkpoint `path` (UserError if unreadable)."""
    try:
        return dict(tf.train.list_variables(path))
    except UNREADABLE as e:
        raise _unreadable(path, e)


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
