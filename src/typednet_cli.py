"""The ``typednet`` command's launcher: Ctrl-C during start-up is one line, not a traceback.

Importing typednet (NumPy, tqdm, ...) takes a while; a Ctrl-C meanwhile would print a
``KeyboardInterrupt`` traceback from inside the import. This module, outside the
package, installs a handler first, then imports and runs `typednet.apps.cli.main`,
which handles Ctrl-C itself from its first line on. Only a Ctrl-C in the few
milliseconds before Python runs this module's first line is Python's own.
"""

import os
import signal
import sys
from types import FrameType

__all__ = ["main"]


def _interrupted(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"typednet: error: interrupted\n")
    os._exit(130)


def main() -> int:
    """Run ``typednet`` on ``sys.argv[1:]``: the exit status (130 after Ctrl-C)."""
    signal.signal(signal.SIGINT, _interrupted)  # until cli.main takes over
    from typednet.apps.cli import main as run

    status = run()
    signal.signal(signal.SIGINT, _interrupted)  # and while Python shuts down
    return status


if __name__ == "__main__":
    sys.exit(main())
