"""The ``typednet`` command line: ``typednet demo``."""

import argparse
import sys
from collections.abc import Sequence

from . import tutorial

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="typednet", description="typednet: a static-typed neural-network library on NumPy."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="the course's forward pass, layer by layer")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        tutorial.print_forward()
    return 0


if __name__ == "__main__":
    sys.exit(main())
