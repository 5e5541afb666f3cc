"""``axis evaluate``: temporal stability of a trace, and with a generated clip's ground truth
its line quality and identity."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from talos.cli.common import add_config_option, settings_from_args

LABEL = 30  # characters of the label column


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="score a trace's temporal stability, and its lines and ids against ground truth",
        description=(
            "Score OUTDIR's temporal stability against its source video: temporal F (last "
            "frame's strokes moved by a reference flow of the source, DIS medium at full "
            "size, against this frame's, at 2 px; and counted only where the flow passes "
            "its forward-backward check: the consistent F), the same for the raw line map of "
            "the edge strategy the trace used, the ink-weighted median track length and the id "
            "carry-over. With ground truth (--truth, or CLIP.gt.json beside the traced clip) "
            "also score the strokes against the true lines frame by frame: boundary "
            "precision, recall and F (at 3 px for 1080p, scaled, and at the BSDS tolerance), "
            "the share of stroke length on texture, then ID switches, fragmentation, the "
            "share of lines that keep one id, and the median track length; and the temporal "
            "F again with the true motion instead of the flow, for the strokes, the raw line "
            "map and the true lines themselves (which also get the flow's: its ceiling on "
            "this clip). Pass the --config the trace used. "
            "Example: axis evaluate out/clip --truth clip.gt.json"
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="a trace's output folder")
    parser.add_argument(
        "--truth", metavar="GT", help="the clip's .gt.json (default: beside the traced clip)"
    )
    parser.add_argument(
        "--source", metavar="VIDEO", help="the traced video (default: lines.json's source)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def _truth_beside_source(outdir: Path) -> Path:
    """``clip.gt.json`` beside the clip named in ``OUTDIR/lines.json``."""
    from talos.axis.io.sample import ground_truth_path
    from talos.cli import CliError

    try:
        uri = json.loads((outdir / "lines.json").read_text())["source"]["uri"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CliError(
            f"{outdir}: no readable lines.json (not an 'axis trace' output folder)"
        ) from None
    return ground_truth_path(uri.removeprefix("file://"))


def _number(value: Any, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _figure(value: Any) -> str:
    """A figure of the identity report: shares and rates to 4 places, counts as they are."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_temporal(temporal: Mapping[str, Any]) -> None:
    def f_line(name: str, scores: Mapping[str, Any]) -> str:
        line = (
            f"{name:<{LABEL}}F {_number(scores['temporal_f'])}  "
            f"P {_number(scores['temporal_precision'])}  "
            f"R {_number(scores['temporal_recall'])}"
        )
        if "unwarped_f" not in scores:
            return line
        return line + (
            f"  (where the flow is consistent: F {_number(scores['consistent_f'])}; "
            f"unwarped F {_number(scores['unwarped_f'])})"
        )

    pairs = temporal["pairs"]
    print(
        f"{f_line('temporal', temporal)} at {temporal['tolerance_px']:.1f} px over {pairs} "
        f"frame pair{'' if pairs == 1 else 's'}; flow: {temporal['flow']}"
    )
    raw = temporal.get("raw_line_map")
    if raw:
        print(f"{f_line('  raw line map', raw)} [{raw['strategy']}]")
    length = temporal["ink_weighted_track_length"]
    print(f"{'  track length':<{LABEL}}{_number(length, '.1f')} frames (ink-weighted median)")
    print(f"{'  id carry-over':<{LABEL}}{_number(temporal['id_carry_over'], '.1%')} of the ink")
    truth = temporal.get("truth_under_flow")
    if not truth:
        return
    moved = temporal["true_motion"]
    print(
        f"{f_line('true motion: strokes', moved)} over {moved['pairs']} pairs "
        "(moved by the ground truth's poses)"
    )
    if raw:
        print(f"{f_line('  raw line map', raw['true_motion'])} [{raw['strategy']}]")
    print(f"{f_line('  true lines under flow', truth)} (the flow's ceiling on this clip)")
    print(f"{f_line('  true lines, true motion', truth['true_motion'])}")


def run(args: argparse.Namespace) -> int:
    from talos.axis.evaluation.boundaries import evaluate_boundaries
    from talos.axis.evaluation.identity import EvaluationError, evaluate_identity, load_json
    from talos.axis.evaluation.motion import has_poses
    from talos.axis.evaluation.temporal import evaluate_temporal, trace_source
    from talos.axis.io.manifest import MANIFEST_FILE

    outdir = Path(args.outdir)
    settings = settings_from_args(args)
    # The source is needed last but checked first: a moved video should not cost a run.
    manifest = load_json(outdir / MANIFEST_FILE, "manifest")
    source = Path(args.source) if args.source else trace_source(outdir, manifest)
    if not source.exists():
        raise EvaluationError(f"source video not found: {source}")
    if args.truth:
        truth: Path | None = Path(args.truth)
    else:
        beside = _truth_beside_source(outdir)
        truth = beside if beside.is_file() else None
    report: dict[str, Any] = {}
    moves = None  # the truth, when it records the true motion
    if truth is not None:
        report = {"lines": evaluate_boundaries(outdir, truth), **evaluate_identity(outdir, truth)}
        moves = truth if has_poses(load_json(truth, "ground truth")) else None
    report["temporal"] = evaluate_temporal(outdir, settings, source=source, truth=moves)
    if args.json:
        print(json.dumps(report))
        return 0
    if truth is None:
        print("no ground truth (no .gt.json beside the traced clip): temporal measures only")
    else:
        lines = report["lines"]
        print(
            f"{'lines':<{LABEL}}P {lines['precision']:.3f}  R {lines['recall']:.3f}  "
            f"F {lines['f']:.3f} at {lines['tolerance_px']:.1f} px, "
            f"texture {lines['texture_share']:.1%}; "
            f"BSDS ({lines['bsds_tolerance_px']:.1f} px) F {lines['bsds']['f']:.3f}"
        )
        for key, value in report.items():
            if key in ("lines", "temporal"):
                continue
            if isinstance(value, Mapping):  # linked_pieces, id_switch_causes
                for sub, figure in value.items():
                    print(f"{'  ' + sub:<{LABEL}} {_figure(figure)}  ({key.replace('_', ' ')})")
                continue
            print(f"{key:<{LABEL}}{_figure(value)}")
        if moves is None:
            print(
                f"{truth.name} records no poses (made before they were): no true-motion "
                "figures; generate the clip again for them"
            )
    _print_temporal(report["temporal"])
    return 0
