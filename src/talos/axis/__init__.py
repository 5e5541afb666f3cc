"""AXIS, the line-art engine of TALOS: video in, clean, editable vector strokes out.

The Python API::

    from talos.axis import trace

    clip = trace("clip.mp4", edges={"strategy": "xdog"})
    for frame in clip:                     # streamed: one frame at a time, no files
        print(frame.index, len(frame.strokes))
    print(clip.metrics["ssim_mean"], len(clip.tracks))

:func:`trace` (in :mod:`talos.axis.api`) takes settings as keyword overrides of the code
defaults and never reads ``config.yaml``; ``out="folder"`` also writes the files of
``axis trace``. The names below are imported when first used, so importing one engine module
(``talos.axis.errors``) does not load the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from talos.axis.api import TracedClip, TracedFrame, TraceResult, trace, trace_video
    from talos.axis.errors import AxisError, InputError, StrategyError
    from talos.axis.strokes import Circle, Stroke, Triangle
    from talos.axis.validation import validate_output
    from talos.config import Settings

# Public name -> the module that defines it.
_HOMES = {
    "trace": "talos.axis.api",
    "trace_video": "talos.axis.api",
    "TracedClip": "talos.axis.api",
    "TracedFrame": "talos.axis.api",
    "TraceResult": "talos.axis.api",
    "Settings": "talos.config",
    "Stroke": "talos.axis.strokes",
    "Circle": "talos.axis.strokes",
    "Triangle": "talos.axis.strokes",
    "AxisError": "talos.axis.errors",
    "InputError": "talos.axis.errors",
    "StrategyError": "talos.axis.errors",
    "validate_output": "talos.axis.validation",
}

__all__ = [
    "AxisError",
    "Circle",
    "InputError",
    "Settings",
    "StrategyError",
    "Stroke",
    "TraceResult",
    "TracedClip",
    "TracedFrame",
    "Triangle",
    "trace",
    "trace_video",
    "validate_output",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
