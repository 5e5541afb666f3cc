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
    "orchestrator": "talos.orchestrator.app:create_app",
    "prism": "talos.prism.app:create_app",
    "chroma": "talos.chroma.app:create_app",
}
DEFAULT_SERVICE = "axis"
# The Settings section that holds each service's host and port.
ADDRESS_SECTION: dict[str, str] = {
    "axis": "service",
    "orchestrator": "orchestrator",
    "prism": "prism",
    "chroma": "chroma",
}
# `axis serve` with no MODULE: the whole pipeline on one machine, one process per module.
ALL_SERVICES = ("orchestrator", "prism", "axis", "chroma")


def load_factory(name: str) -> Callable[..., Any]:
    """The app factory registered for ``name``."""
    try:
        target = SERVICES[name]
    except KeyError:
        known = ", ".join(sorted(SERVICES))
        raise CliError(f"unknown service {name!r} (known: {known})", EXIT_USAGE) from None
    module_name, _, attribute = target.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return factory


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the HTTP services (default: Orchestrator, PRISM, AXIS and CHROMA together)",
        description=(
            "Serve a TALOS module over HTTP. Example: axis serve axis --host 0.0.0.0 --port 8000. "
            "Host and port default to service.host / service.port (AXIS_SERVICE__HOST/PORT)."
        ),
    )
    parser.add_argument(
        "module",
        nargs="?",
        default=None,
        metavar="MODULE",
        help=f"service to run: {', '.join(sorted(SERVICES))} (default: all four, each on its "
        "configured port)",
    )
    parser.add_argument("--host", help="bind address")
    parser.add_argument("--port", type=int, help="TCP port")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from_args(args)
    if args.module is None:
        return run_all(args, settings)
    section = getattr(settings, ADDRESS_SECTION.get(args.module, "service"))
    host = args.host or section.host
    port = args.port if args.port is not None else section.port
    if not 0 < port < 65536:
        raise CliError(f"--port must be 1..65535, got {port}", EXIT_USAGE)
    factory = load_factory(args.module)
    app = factory(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise CliError(f"could not start the {args.module} service on {host}:{port}")
    return 0


def run_all(args: argparse.Namespace, settings: Any) -> int:
    """Run every module of :data:`ALL_SERVICES` as its own ``axis serve MODULE`` process on
    its configured host/port; stop them all when one exits or on Ctrl-C/SIGTERM."""
    import signal
    import subprocess
    import sys
    import time

    if args.host or args.port is not None:
        raise CliError("--host/--port need a MODULE; `axis serve` uses each one's settings")
    base = [sys.executable, "-m", "talos.cli", "serve"]
    extra = (["--config", args.config] if args.config else []) + (
        ["--log-json"] if args.log_json else []
    )
    children = {name: subprocess.Popen([*base, name, *extra]) for name in ALL_SERVICES}

    def stop_all(*_: Any) -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop_all)
    exited: str | None = None
    try:
        while exited is None:
            exited = next((n for n, c in children.items() if c.poll() is not None), None)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()
        for child in children.values():
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
    if exited is not None and children[exited].returncode not in (0, -signal.SIGTERM):
        raise CliError(f"the {exited} service stopped (exit {children[exited].returncode})")
    return 0
