"""``axis export``: a trace as an animation animators open (Lottie, animated SVG, Blender
Grease Pencil script)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError

DEFAULT_NAMES = {
    "lottie": "animation.json",
    "svg-anim": "animation.svg",
    "grease-pencil": "animation_gp.py",
}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="export a trace as Lottie, animated SVG or a Blender Grease Pencil script",
        description=(
            "Write the trace in OUTDIR (lines.json and its frame files) as one animation: "
            "lottie (bodymovin JSON, a shape layer per track), svg-anim (one SVG that plays "
            "the shot) or grease-pencil (a Python script for 'blender -b --python FILE'). "
            "Example: axis export out/clip --format lottie -o clip.json"
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="an 'axis trace' output folder")
    parser.add_argument("--format", required=True, choices=sorted(DEFAULT_NAMES), dest="fmt")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="file to write (default: OUTDIR/animation.*)"
    )
    parser.add_argument(
        "--tolerance",
        default="0.5",
        metavar="PX",
        help="key reduction: drop keys that linear interpolation redraws within PX (0.5)",
    )
    parser.add_argument(
        "--style",
        metavar="NAME|FILE.json",
        help="colours from this style profile (a shipped name or a profile JSON file)",
    )
    parser.add_argument(
        "--3d",
        dest="three_d",
        action="store_true",
        help="grease-pencil: strokes at their points_3d, and the shot's camera",
    )
    parser.set_defaults(handler=run)


def _style(spec: str | None) -> dict[str, Any] | None:
    from talos.chroma.profiles import load_profile, parse_profile

    if spec is None:
        return None
    path = Path(spec)
    if spec.endswith(".json") or path.is_file():
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CliError(f"--style {spec}: {exc}", EXIT_USAGE) from None
        return parse_profile(document, spec).model_dump()
    return load_profile(spec).model_dump()


def run(args: argparse.Namespace) -> int:
    from talos.axis.export import export_chunks, read_shot
    from talos.axis.export.grease_pencil import grease_pencil_chunks
    from talos.files import write_atomic

    try:
        tolerance = float(args.tolerance)
    except ValueError:
        raise CliError(
            f"--tolerance must be a number (got {args.tolerance!r})", EXIT_USAGE
        ) from None
    if not tolerance >= 0:
        raise CliError(f"--tolerance must be >= 0 px (got {tolerance})", EXIT_USAGE)
    shot = read_shot(args.outdir, style=_style(args.style))
    out = Path(args.output) if args.output else Path(args.outdir) / DEFAULT_NAMES[args.fmt]
    if args.fmt == "grease-pencil":
        chunks = grease_pencil_chunks(shot, three_d=args.three_d)
    else:
        chunks = export_chunks(shot, args.fmt, tolerance)
    try:
        write_atomic(out, b"".join(chunks))
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc}") from None
    print(out)
    return 0
