"""``axis serve [MODULE]``: run a TALOS HTTP service with uvicorn.

MODULE names an app factory in :data:`SERVICES` (``"package.module:function"``, called with
the Settings); adding a service is one line there.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from talos.cli import EXIT_USAGE, CliError
from talos.cli.common import add_config_option, settings_from_args

SERVICES: dict[str, str] = {
    "axis": "talos.axis.service.app:create_app",
}
DEFAULT_SERVICE = "axis"


def load_factory(name: str) -> Callable[..., Any]:
    """The app factory registered for ``name``."""
    try:
        target = SERVICES[name]
    except KeyError:
        known = ", ".join(sorted(SERVICES))
        raise CliError(f"unknown service {name!r} (known: {known})", EXIT_USAGE) from None
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run an HTTP service (default: the AXIS API)",
        description=(
            "Serve a TALOS module over HTTP. Example: axis serve axis --host 0.0.0.0 --port 8000. "
            "Host and port default to service.host / service.port (AXIS_SERVICE__HOST/PORT)."
        ),
    )
    parser.add_argument(
        "module",
        nargs="?",
        default=DEFAULT_SERVICE,
        metavar="MODULE",
        help=f"service to run: {', '.join(sorted(SERVICES))} (default {DEFAULT_SERVICE})",
    )
    parser.add_argument("--host", help="bind address")
    parser.add_argument("--port", type=int, help="TCP port")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from_args(args)
    factory = load_factory(args.module)
    host = args.host or settings.service.host
    port = args.port if args.port is not None else settings.service.port
    if not 0 < port < 65536:
        raise CliError(f"--port must be 1..65535, got {port}", EXIT_USAGE)
    app = factory(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise CliError(f"could not start the {args.module} service on {host}:{port}")
    return 0
