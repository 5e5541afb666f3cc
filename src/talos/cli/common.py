"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError
from talos.config import Settings, load_settings
from talos.logs import configure_logging

BENCH_OUTPUT = "out/bench"  # where the `axis bench` commands write their reports


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", help="YAML settings file (overrides config.yaml; env wins)"
    )
    parser.add_argument("--log-json", action="store_true", help="log one JSON object per line")


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Load Settings from ``--config`` plus command-line overrides; set up logging."""
    settings = load_settings(args.config, **overrides)
    configure_logging(settings.logging.level, args.log_json or settings.logging.json_logs)
    return settings


def require_positive(value: int | None, name: str) -> None:
    """A usage error (exit 2) naming option ``name`` when ``value`` is given and below 1."""
    if value is not None and value < 1:
        raise CliError(f"{name} must be at least 1 (got {value})", EXIT_USAGE)


def progress_printer(args: argparse.Namespace) -> Callable[[str], None]:
    """A function printing ``bench: MESSAGE`` lines on stderr, silent with ``--quiet``."""

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"bench: {message}", file=sys.stderr, flush=True)

    return progress


def check_input(clip: Path, settings: Settings) -> None:
    """Fail before any work (and with the decoder's own words) on an unusable input."""
    from talos.axis.io.video import FrameSource

    FrameSource(clip, settings.processing)
