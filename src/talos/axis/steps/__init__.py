"""Processing steps by name. ``pipeline.steps`` in Settings lists which run, in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from talos.axis.io.output import OutputDir
from talos.axis.registry import Registry
from talos.axis.types import ProcessingStep
from talos.config import Settings


@dataclass(frozen=True)
class BuildContext:
    """What a step factory may use: the settings, the run's output folder (None when the run
    writes no files: a library :func:`talos.axis.trace` without ``out``), the shot spec."""

    settings: Settings
    output: OutputDir | None
    shot: Mapping[str, Any] = field(default_factory=dict)


STEPS: Registry[ProcessingStep] = Registry("step")


def build_steps(names: Sequence[str], build: BuildContext) -> list[ProcessingStep]:
    """Instantiate the named steps in order (unknown names raise ``UnknownNameError``)."""
    return [STEPS.create(name, build) for name in names]


from talos.axis.steps import core as _core  # noqa: E402,F401  (registers built-ins)
from talos.axis.steps import hysteresis as _hysteresis  # noqa: E402,F401
from talos.axis.steps import strokes as _strokes  # noqa: E402,F401
from talos.axis.steps import temporal as _temporal  # noqa: E402,F401
