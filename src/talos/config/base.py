"""What every settings section shares: the base model and the constrained number types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """One section of :class:`talos.config.Settings`.

    Unknown keys are refused so that a typo in ``config.yaml`` or an ``AXIS_`` variable stops
    start-up instead of being ignored; assignments are validated so a section changed in code
    cannot hold a value a file could not.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


NonNegInt = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
