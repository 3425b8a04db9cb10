"""``python -m typednet``: the command line."""

import sys

import typednet_cli

from .apps.cli import main

status = main()
typednet_cli.guard_start_up()  # and while Python shuts down: a Ctrl-C is still one line
sys.exit(status)
