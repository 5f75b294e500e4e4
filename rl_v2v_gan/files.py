"""Writing files so that a failure never leaves one half-written.

Every file the package writes (config.json, metrics.json, eval.csv, ...)
goes through `atomic_write`: the content is written to a temporary file with
a unique name in the same folder and renamed over the target, so readers see
the old file or the new one, never a part; the temporary file is removed on
any failure and the error names the file.

`locked` keeps two processes from training into the same folder at once.
"""
import contextlib
import os
import tempfile

from .errors import UserError

try:
    import fcntl
except ImportError:          # not POSIX: no locking
    fcntl = None

LOCK_FILE = ".lock"


def atomic_write(path, content, mode="w"):
    """Write `content` (str, or bytes with mode "wb") to `path` atomically."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                                   dir=folder)
        with os.fdopen(fd, mode) as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise UserError("cannot write %s: %s" % (path, e.strerror or e))
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def locked(folder, flag="--checkpoint_dir"):
    """Hold `<folder>/.lock` for the block, or fail with a UserError naming the
    process that holds it.

    The lock is an `fcntl` lock, which the OS releases when its process ends
    however it ends, so a killed run leaves no stale lock; the file keeps the
    holder's pid for the message.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UserError("%s %s: not a folder" % (flag, folder))
    path = os.path.join(folder, LOCK_FILE)
    try:
        os.makedirs(folder, exist_ok=True)
        f = open(path, "a+")
    except OSError as e:
        raise UserError("%s %s: cannot create %s: %s" % (flag, folder, path, e.strerror or e))
    try:
        if fcntl is not None:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.seek(0)
                holder = f.read().strip() or "unknown"
                raise UserError("%s %s is in use by another process (pid %s): wait for it to "
                                "finish or choose another %s" % (flag, folder, holder, flag))
        f.seek(0)
        f.truncate()
        f.write("%d\n" % os.getpid())
        f.flush()
        yield
    finally:
        f.close()           # releases the lock
