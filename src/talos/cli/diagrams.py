"""``axis diagrams``: regenerate the architecture diagrams in docs/images (or check them)."""

from __future__ import annotations

import argparse
from typing import Any

from talos.cli import CliError


def register(commands: Any) -> None:
    from talos.diagrams.generate import DEFAULT_OUT, DEFAULT_TRACE

    parser = commands.add_parser(
        "diagrams",
        help="regenerate the architecture diagrams (draw.io + PNG)",
        description="Write the C4 context and container diagrams, the AXIS component diagram "
        "(introspected from the code) and the prompt-to-animation sequence diagram (from a call "
        "log) as NAME.drawio and NAME.png. With --check, write nothing and fail when the "
        "files differ from what the code generates.",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help=f"output folder (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--trace",
        default=str(DEFAULT_TRACE),
        metavar="FILE",
        help=f"call log (JSON lines) for the sequence diagram (default: {DEFAULT_TRACE})",
    )
    parser.add_argument(
        "--job",
        metavar="JOB_ID",
        help="which job of the call log to draw (default: the first POST /jobs)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files in --out are stale"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from talos.diagrams.generate import build_all, stale, write_all
    from talos.diagrams.sequence import TraceError

    try:
        diagrams = build_all(args.trace, args.job)
    except TraceError as exc:
        raise CliError(str(exc)) from None
    if args.check:
        outdated = stale(diagrams, args.out)
        if outdated:
            names = ", ".join(str(path) for path in outdated)
            raise CliError(f"stale diagrams: {names} (run 'axis diagrams' or 'make diagrams')")
        print(f"{args.out}: {len(diagrams)} diagrams up to date")
        return 0
    try:
        written = write_all(diagrams, args.out)
    except OSError as exc:
        raise CliError(f"cannot write diagrams to {args.out}: {exc.strerror or exc}") from None
    print(f"{args.out}: wrote {len(written)} files ({', '.join(d.name for d in diagrams)})")
    return 0
