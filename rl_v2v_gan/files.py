"""Writing files so that a failure never leaves one half-written.

Every file the package writes (config.json, metrics.json, eval.csv, ...)
goes through `atomic_write`: the content is written to a temporary file with
a unique name in the same folder and renamed over the target, so readers see
the old file or the new one, never a part; the temporary file is removed on
any failure and the error names the file.
"""
import os
import tempfile

from .errors import UserError


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
