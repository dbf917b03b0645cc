"""The ``aigc-check`` command's entry point: ``cli.main``, with a Ctrl-C during its imports (the
first few hundred milliseconds of every run) answered like any other interrupt: one line, exit 130,
no traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("aigc-check: interrupted while starting", file=sys.stderr)
        return 130  # cli.ExitStatus.INTERRUPTED, which cannot be imported here: the import was interrupted
    return cli_main()
