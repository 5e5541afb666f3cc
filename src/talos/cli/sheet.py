"""``axis sheet``: a contact sheet of a trace (source | line map | strokes, a few frames)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError
from talos.cli.common import add_config_option, settings_from_args

DEFAULT_ROWS = 4
SHEET_FILE = "sheet.png"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "sheet",
        help="draw a contact sheet of a trace: source | line map | strokes for a few frames",
        description=(
            "Write one PNG with a row per frame (ROWS frames spread over the trace) and three "
            "columns: the source frame, the line map recomputed with the configured edge "
            "strategy, and the strokes coloured by stroke_id; with --truth a fourth: the "
            "true lines the strokes found (green) and missed (red), and the strokes off "
            "every true line (blue), with each frame's precision and recall. Pass the "
            "--config the trace used. Example: axis sheet out/clip -o out/clip.png --rows 6"
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="an 'axis trace' output folder")
    parser.add_argument(
        "--source", metavar="VIDEO", help="the traced video (default: lines.json's source)"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT.png", help=f"sheet to write (default: OUTDIR/{SHEET_FILE})"
    )
    parser.add_argument(
        "--rows",
        default=str(DEFAULT_ROWS),
        metavar="N",
        help=f"frames shown (default {DEFAULT_ROWS})",
    )
    parser.add_argument(
        "--frames", metavar="I,J,...", help="these trace frame indices instead of --rows"
    )
    parser.add_argument(
        "--width", default="2400", metavar="PX", help="maximum sheet width (default 2400)"
    )
    parser.add_argument(
        "--truth",
        metavar="GT.json",
        help="the clip's ground truth (axis sample writes CLIP.gt.json): add the column "
        "that scores the strokes against it",
    )
    add_config_option(parser)
    parser.set_defaults(handler=run)


def _int(text: str, name: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"{name} must be an integer (got {text!r})", EXIT_USAGE) from None
    if value < minimum:
        raise CliError(f"{name} must be at least {minimum} (got {value})", EXIT_USAGE)
    return value


def run(args: argparse.Namespace) -> int:
    from talos.axis.io.readback import manifest_source
    from talos.bench.contact_sheet import contact_sheet

    rows = _int(args.rows, "--rows", 1)
    width = _int(args.width, "--width", 64)
    frames = None
    if args.frames is not None:
        frames = [_int(part.strip(), "--frames", 0) for part in args.frames.split(",")]
    outdir = Path(args.outdir)
    source = Path(args.source) if args.source else manifest_source(outdir)
    if not source.exists():
        hint = "" if args.source else " (lines.json's source; pass --source)"
        raise CliError(f"source not found: {source}{hint}")
    settings = settings_from_args(args)
    out = Path(args.output) if args.output else outdir / SHEET_FILE
    try:
        path = contact_sheet(
            source,
            outdir,
            out,
            frames=frames,
            rows=rows,
            width=width,
            settings=settings,
            truth=args.truth,
        )
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(str(exc)) from None
    print(path)
    return 0
