"""The ``typednet`` command's launcher: Ctrl-C during start-up is one line, not a traceback.

Importing typednet (NumPy, tqdm, ...) takes a while; a Ctrl-C meanwhile would print a
``KeyboardInterrupt`` traceback from inside the import. This module, outside the
package, installs a handler first, then imports and runs `typednet.apps.cli.main`,
which handles Ctrl-C itself from its first line on. Only a Ctrl-C in the few
milliseconds before Python runs this module's first line is Python's own.
``python -m typednet`` imports the package first: the package calls `guard_start_up`
then, and ``typednet/__main__.py`` guards the shut-down likewise.
"""

import os
import signal
import sys
from types import FrameType

__all__ = ["guard_start_up", "main"]


def _interrupted(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"typednet: error: interrupted\n")
    os._exit(130)


def guard_start_up() -> None:
    """Under ``python -m typednet`` (and ``-m typednet.apps.cli``): until `cli.main` takes
    over, a Ctrl-C is the one line; called by the package while it is first imported."""
    argv = sys.orig_argv
    target = next(
        (a[2:] or b for a, b in zip(argv, [*argv[1:], ""], strict=True) if a.startswith("-m")), ""
    )
    if target in ("typednet", "typednet.apps.cli"):
        signal.signal(signal.SIGINT, _interrupted)


def main() -> int:
    """Run ``typednet`` on ``sys.argv[1:]``: the exit status (130 after Ctrl-C)."""
    signal.signal(signal.SIGINT, _interrupted)  # until cli.main takes over
    from typednet.apps.cli import main as run

    status = run()
    signal.signal(signal.SIGINT, _interrupted)  # and while Python shuts down
    return status


if __name__ == "__main__":
    sys.exit(main())
