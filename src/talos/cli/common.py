"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
from typing import Any

from talos.config import Settings, load_settings
from talos.logs import configure_logging


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
