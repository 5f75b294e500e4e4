"""RL-V2V-GAN command line: parses flags and dispatches on --mode.

    python main.py --mode prepare_data|train|eval|translate|export [flags]

See README.md, or `python main.py --help` for every flag.
"""
import time

STARTED = time.time()   # before the imports: --eval_every's clock includes them

import importlib  # noqa: E402
import importlib.util  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from rl_v2v_gan.config import non_defaults, parse_args  # noqa: E402
from rl_v2v_gan.errors import UserError  # noqa: E402

# mode => (module, function) in the package; each takes the parsed flags.
MODES = {
    "prepare_data": ("rl_v2v_gan.data", "prepare"),
    "train": ("rl_v2v_gan.training", "train"),
    "eval": ("rl_v2v_gan.evaluation", "evaluate"),
    "translate": ("rl_v2v_gan.evaluation", "translate"),
    "export": ("rl_v2v_gan.evaluation", "export"),
}


class Terminated(BaseException):
    """SIGTERM as an exception: `finally` blocks remove temporary files
    (training installs its own handler, which saves a checkpoint first)."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv=None):
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        args = parse_args(argv, STARTED)
        changed = non_defaults(args)
        print("rl_v2v_gan %s: %s" % (args.mode, " ".join(
            "--%s %s" % (k, v) for k, v in sorted(changed.items()) if k != "mode") or "defaults"))
        module, function = MODES[args.mode]
        if importlib.util.find_spec(module) is None:
            raise UserError("--mode %s is not implemented yet" % args.mode)
        getattr(importlib.import_module(module), function)(args)
    except UserError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
