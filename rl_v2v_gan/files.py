"""Writing files so that a failure never leaves one half-written.

Every file or folder the package writes (config.json, eval.csv, videos,
prepared datasets, exports, ...) goes through `atomic_path` (or
`atomic_write` for content in memory): it is written under a temporary name
unique in the same folder and renamed over the target, so readers see the
old one or the new one, never a part; the temporary name is removed on any
failure and the error names the target.

`check_destination` refuses, before any slow work, a destination that cannot
be written; `missing` says why a path that should be there is not.
`locked` keeps two processes from training into the same folder at once.
"""
import contextlib
import errno
import json
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


def check_destination(path, flag, folder=False):
    """A UserError unless `path` (a file, or with `folder` a folder) can be
    written: an existing `path` of the other kind, a file where a parent
    folder would be, or a parent folder without write permission."""
    if os.path.isdir(path) and not folder:
        raise UserError("%s %s: is a folder, not a file" % (flag, path))
    if os.path.exists(path) and folder and not os.path.isdir(path):
        raise UserError("%s %s: is a file, not a folder" % (flag, path))
    existing = os.path.dirname(os.path.abspath(path))   # created on writing, not before
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UserError("%s %s: %s is a file, not a folder" % (flag, path, existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError("%s %s: folder %s is not writable" % (flag, path, existing))


def missing(path):
    """Why `path` cannot be opened, in words: "a symlink loop", "a broken
    symlink (to ...)", "... is a file, not a folder", or "no such file or folder"."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symlink loop"
        if os.path.islink(path):
            return "a broken symlink to %s" % os.readlink(path)
        if e.errno == errno.ENOTDIR:
            return "a parent of it is a file, not a folder"
        if e.errno == errno.EACCES:
            return "permission denied"
        return "no such file or folder"
    return "a folder" if os.path.isdir(path) else "not a regular file"


def atomic_write(path, content, mode="w"):
    """Write `content` (str, or bytes with mode "wb") to `path` atomically."""
    try:
        with atomic_path(path) as tmp, open(tmp, mode) as f:
            f.write(content)
    except OSError as e:
        raise UserError("cannot write %s: %s" % (path, e.strerror or e))


def write_json(path, obj):
    """`obj` as indented, key-sorted JSON at `path`, atomically."""
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True))


@contextlib.contextmanager
def locked(folder, flag="--checkpoint_dir"):
    """Hold `<folder>/.lock` for the block, or fail with a UserError naming the
    process that holds it.

    The lock is an `fcntl` lock, which the OS releases when its process ends
    however it ends, so a killed run leaves no stale lock; the file keeps the
    holder's pid for the message. The holder removes the file when the block
    ends (a lock taken on a file removed meanwhile is taken again on the new
    one), and `folder` too if the block created it and left it empty: a run
    that failed or had nothing to do leaves the folder as it found it.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UserError("%s %s: not a folder" % (flag, folder))
    created = not os.path.exists(folder)
    path = os.path.join(folder, LOCK_FILE)
    f = _lock(path, folder, flag)
    try:
        f.seek(0)
        f.truncate()
        f.write("%d\n" % os.getpid())
        f.flush()
        yield
    finally:
        try:
            os.remove(path)     # while still locked: no one else holds this file
            if created:
                os.rmdir(folder)
        except OSError:
            pass                # the folder holds the run's files, or is gone
        f.close()               # releases the lock


def _lock(path, folder, flag):
    """The open lock file `path`, flock-ed by this process (see `locked`)."""
    while True:
        try:
            os.makedirs(folder, exist_ok=True)
            f = open(path, "a+")
        except OSError as e:
            raise UserError("%s %s: cannot create %s: %s" % (flag, folder, path, e.strerror or e))
        if fcntl is None:
            return f
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise UserError("%s %s is in use by another process (pid %s): wait for it to "
                            "finish or choose another %s" % (flag, folder, holder, flag))
        try:
            if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                return f
        except OSError:
            pass                # removed by its previous holder: lock the new file
        f.close()
