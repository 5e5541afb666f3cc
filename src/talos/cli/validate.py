"""``axis validate``: check an output folder against the published JSON Schemas."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="validate a trace's output folder against the JSON Schemas",
        description="Validate OUTDIR/lines.json and every frame file it lists.",
    )
    parser.add_argument("outdir", metavar="OUTDIR")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from talos.axis.validation import validate_output

    count = validate_output(args.outdir)
    print(f"{args.outdir}: valid ({count} frames)")
    return 0
