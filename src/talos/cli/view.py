"""``axis view OUTDIR``: open a trace's output folder in the web viewer (a loopback server)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "view",
        help="watch a trace in the browser: playback, onion skin, tracks, metrics (read-only)",
        description=(
            "Serve the web viewer for an 'axis trace' output folder on 127.0.0.1 and print its "
            "URL. Read-only: editing needs the AXIS service (axis serve axis, then /viewer/). "
            "Example: axis view out/demo/trace --port 8765"
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="an 'axis trace' output folder")
    parser.add_argument(
        "--port", default="0", metavar="PORT", help="TCP port on 127.0.0.1 (default: a free one)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import socket

    import uvicorn

    from talos.axis.service.viewer.local import create_local_app, job_name

    try:
        port = int(args.port)
    except ValueError:
        raise CliError(f"--port must be an integer (got {args.port!r})", EXIT_USAGE) from None
    if not 0 <= port < 65536:
        raise CliError(f"--port must be 0..65535, got {port}", EXIT_USAGE)
    app = create_local_app(args.outdir)
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    name = job_name(Path(args.outdir))
    print(f"http://127.0.0.1:{port}/viewer/#/job/{name}", flush=True)
    config = uvicorn.Config(app, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
