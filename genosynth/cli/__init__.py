"""The ``genosynth`` command line: demo, fit, sample, evaluate.

Argument parsing (:mod:`genosynth.cli._parser`) and the commands, which read
the inputs with the library's functions, call the estimators and print
(:mod:`genosynth.cli._commands`). Everything a command computes is a library
function a user can call too.
"""

from __future__ import annotations

import sys

from genosynth.cli._commands import CLIError
from genosynth.cli._parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv=None) -> int:
    """Entry point of the ``genosynth`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, OSError, MemoryError) as exc:
        # OSError / MemoryError: the system refused (disk, permissions, memory),
        # named in one line rather than a traceback.
        message = str(exc).replace("\n", " ") or type(exc).__name__
        print(f"error: {message} (genosynth {args.command})", file=sys.stderr)
        return 2
