"""``axis sample``: a deterministic test clip with ground truth."""

from __future__ import annotations

import argparse
from typing import Any

from talos.cli import EXIT_USAGE, CliError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "sample",
        help="generate a deterministic test clip and its ground truth",
        description=(
            "Write OUT (an MP4 of moving, rotating, scaling line shapes over a textured "
            "background) and OUT's ground truth beside it (clip.mp4 -> clip.gt.json)."
        ),
    )
    parser.add_argument("out", metavar="OUT.mp4", help="where to write the clip")
    parser.add_argument("--width", type=int, default=1280, help="frame width in px (even)")
    parser.add_argument("--height", type=int, default=720, help="frame height in px (even)")
    parser.add_argument("--frames", type=int, default=48, help="number of frames")
    parser.add_argument("--fps", type=int, default=24, help="frame rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the scene")
    parser.add_argument("--shapes", type=int, default=8, help="number of line shapes")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from talos.axis.io.sample import generate_sample

    try:
        gt = generate_sample(
            args.out, args.width, args.height, args.frames, args.seed, args.fps, args.shapes
        )
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(args.out)
    print(gt)
    return 0
