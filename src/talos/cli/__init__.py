"""The ``axis`` command. Each subcommand lives in its own module with a ``register`` function.

Errors the user can fix end the program with one line on stderr and a non-zero exit status:
2 for bad configuration or usage, 1 for unusable input or a failed run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from talos import __version__
from talos.config import ConfigError
from talos.errors import TalosError

# One module per subcommand, each with a register(commands) function; one per line.
SUBCOMMANDS = (
    "trace",
    "sample",
    "validate",
    "serve",
    "worker",
    "diagrams",
    "dlq",
    "evaluate",
    "bench",
    "models",
    "sheet",
    "export",
    "view",
)

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A one-line user-facing failure with an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="axis",
        description="AXIS turns video into clean, editable, temporally stable vector strokes.",
        epilog="Run 'axis COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"axis {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"talos.cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"axis: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"axis: error: {exc}", file=sys.stderr)
        return exc.status
    except TalosError as exc:  # the engine's AxisError among them
        print(f"axis: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("axis: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
