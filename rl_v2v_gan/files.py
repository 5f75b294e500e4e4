"""Writing files so that a failure never leaves one half-written.

Every file or folder the package writes (config.json, eval.csv, videos,
prepared datasets, exports, ...) goes through `atomic_path` (or
`atomic_write` for content in memory): it is written under a temporary name
unique in the same folder and renamed over the target, so readers see the
old one or the new one, never a part; the temporary name is removed on any
failure and the error names the target.

`locked` keeps two processes from training into the same folder at once.
"""
import contextlib
import os
import shutil
import tempfile

from .errors import UserError

try:
    import fcntl
except ImportError:          # not POSIX: no locking
    fcntl = None

LOCK_FILE = ".lock"


@contextlib.contextmanager
def atomic_path(path, folder=False):
    """Yield a temporary path beside `path` (a file, or with `folder` an empty
    folder) and rename it to `path` when the block succeeds.

    The temporary name is unique and hidden (`.<name>.<random><extension>`);
    on any failure it is removed and an existing `path` is left as it was. A
    folder replaces an existing `path` by moving the old one aside first and
    deleting it after. A folder or file that cannot be created is a UserError
    naming `path`.
    """
    parent = os.path.dirname(os.path.abspath(path))
    base, extension = os.path.splitext(os.path.basename(path))
    try:
        os.makedirs(parent, exist_ok=True)
        if folder:
            tmp = tempfile.mkdtemp(prefix=".%s." % base, suffix=extension, dir=parent)
        else:
            fd, tmp = tempfile.mkstemp(prefix=".%s." % base, suffix=extension, dir=parent)
            os.close(fd)
    except OSError as e:
        raise UserError("cannot write %s: %s" % (path, e.strerror or e))
    try:
        yield tmp
        os.chmod(tmp, 0o755 if folder else 0o644)
        if folder:
            _swap_in(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        elif os.path.exists(tmp):
            os.remove(tmp)


def _swap_in(tmp, path):
    """Rename folder `tmp` to `path`, moving an old `path` aside first and deleting it after."""
    old = tmp + ".old"
    if os.path.exists(path):
        os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(old):
            os.rename(old, path)
        raise
    if os.path.exists(old):
        shutil.rmtree(old)


def atomic_write(path, content, mode="w"):
    """Write `content` (str, or bytes with mode "wb") to `path` atomically."""
    try:
        with atomic_path(path) as tmp, open(tmp, mode) as f:
            f.write(content)
    except OSError as e:
        raise UserError("cannot write %s: %s" % (path, e.strerror or e))


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
