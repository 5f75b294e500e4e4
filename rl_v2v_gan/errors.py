"""User-facing errors: raised for bad flags, files or checkpoints.

`main.py` prints them as one line and exits non-zero, without a traceback.
"""


class UserError(Exception):
    """An error caused by the user's input (a flag, a file, a checkpoint)."""
