"""``axis evaluate``: line quality and identity of a trace against a generated clip's ground
truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="score a trace's lines and stroke identities against ground truth",
        description=(
            "Score OUTDIR's strokes against the true lines of CLIP.gt.json frame by frame: "
            "boundary precision, recall and F (at 3 px for 1080p, scaled, and at the BSDS "
            "tolerance), the share of stroke length on texture, then ID switches, "
            "fragmentation, the share of lines that keep one id, and the median track length. "
            "Example: axis evaluate out/clip --truth clip.gt.json"
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="a trace's output folder")
    parser.add_argument(
        "--truth", metavar="GT", help="the clip's .gt.json (default: beside the traced clip)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _truth_beside_source(outdir: Path) -> Path:
    """``clip.gt.json`` beside the clip named in ``OUTDIR/lines.json``."""
    from talos.axis.io.sample import ground_truth_path
    from talos.cli import CliError

    try:
        uri = json.loads((outdir / "lines.json").read_text())["source"]["uri"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CliError(f"{outdir}: no readable lines.json; pass --truth") from None
    return ground_truth_path(uri.removeprefix("file://"))


def run(args: argparse.Namespace) -> int:
    from talos.axis.evaluation.boundaries import evaluate_boundaries
    from talos.axis.evaluation.identity import evaluate_identity

    truth = Path(args.truth or _truth_beside_source(Path(args.outdir)))
    lines = evaluate_boundaries(Path(args.outdir), truth)
    report = {"lines": lines, **evaluate_identity(Path(args.outdir), truth)}
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"{'lines':<22}P {lines['precision']:.3f}  R {lines['recall']:.3f}  "
        f"F {lines['f']:.3f} at {lines['tolerance_px']:.1f} px, "
        f"texture {lines['texture_share']:.1%}; "
        f"BSDS ({lines['bsds_tolerance_px']:.1f} px) F {lines['bsds']['f']:.3f}"
    )
    for key, value in report.items():
        if key == "lines":
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<22}{shown}")
    return 0
