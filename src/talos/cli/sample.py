"""``axis sample``: a deterministic test clip with ground truth."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talos.cli import EXIT_USAGE, CliError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "sample",
        help="generate a deterministic test clip and its ground truth",
        description=(
            "Write OUT (an MP4 of moving, rotating, scaling line shapes over a textured "
            "background) and OUT's ground truth beside it (clip.mp4 -> clip.gt.json). "
            "--scene realistic: shaded objects without outlines over photo textures, a moving "
            "camera, motion blur, noise and compression; --scene cel: the same as a cartoon "
            "(flat fills, ink outlines, shadow shapes); --scene tangle: drawn lines that cross, "
            "leave the frame and pass under a paper card. Their ground truth is the visible "
            "lines, with every line's pose per frame."
        ),
    )
    parser.add_argument("out", metavar="OUT.mp4", help="where to write the clip")
    parser.add_argument("--width", type=int, help="frame width in px (even; default 1280)")
    parser.add_argument("--height", type=int, help="frame height in px (even; default 720)")
    parser.add_argument("--frames", type=int, help="number of frames (default 48)")
    parser.add_argument("--fps", type=int, help="frame rate (default 24)")
    parser.add_argument("--seed", type=int, help="random seed of the scene (default 0)")
    parser.add_argument("--shapes", type=int, help="number of line shapes (default 8; lines only)")
    parser.add_argument(
        "--scene",
        choices=("lines", "realistic", "cel", "tangle"),
        default="lines",
        help="what the clip shows (default lines: drawn line shapes)",
    )
    parser.add_argument(
        "--standard",
        action="store_true",
        help="the benchmarks' standard clip: 10 s, 1920x1080, 24 fps, 240 frames, same bytes "
        "everywhere (--frames N: its first N frames' scene, N frames long)",
    )
    parser.set_defaults(handler=run)


_DEFAULTS = {"width": 1280, "height": 720, "frames": 48, "fps": 24, "seed": 0, "shapes": 8}


def run(args: argparse.Namespace) -> int:
    from talos.axis.io.sample import generate_sample
    from talos.axis.io.scenes import generate_scene

    if args.scene != "lines":
        if args.standard or args.shapes is not None:
            flag = "--standard" if args.standard else "--shapes"
            raise CliError(f"{flag} is for --scene lines only", EXIT_USAGE)
        values = _given(args)
        return _write(
            args,
            lambda: generate_scene(
                args.out,
                args.scene,
                width=values["width"],
                height=values["height"],
                frames=values["frames"],
                seed=values["seed"],
                fps=values["fps"],
            ),
        )
    if args.standard:
        from talos.bench.standard import STANDARD

        fixed = [f"--{k}" for k in _DEFAULTS if k != "frames" and getattr(args, k) is not None]
        if fixed:
            raise CliError(f"--standard fixes {', '.join(fixed)}; leave them out", EXIT_USAGE)
        values = STANDARD.to_dict() | ({"frames": args.frames} if args.frames else {})
    else:
        values = _given(args)
    return _write(
        args,
        lambda: generate_sample(
            args.out,
            values["width"],
            values["height"],
            values["frames"],
            values["seed"],
            values["fps"],
            values["shapes"],
        ),
    )


def _given(args: argparse.Namespace) -> dict[str, int]:
    """The defaults, with what the command line sets."""
    return {k: v if getattr(args, k) is None else getattr(args, k) for k, v in _DEFAULTS.items()}


def _write(args: argparse.Namespace, generate: Callable[[], Path]) -> int:
    """Run ``generate``; bad arguments and unwritable paths become one-line errors."""
    try:
        gt = generate()
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(args.out)
    print(gt)
    return 0
