"""The bounds every module puts on untrusted numbers, in one place.

A request reaches Python as arbitrary JSON: ``NaN`` and ``Infinity`` (Python's ``json`` reads
both), integers of any size, lists of any shape. Each of these once got past validation and
failed later: a NaN coordinate stored in a frame made its JSON invalid and its PNG a 500, an id
of 2**63 raised ``OverflowError`` in the database driver, a ragged point list raised
``ValueError`` in NumPy. The types here refuse such values while the request is validated, so
the services answer 400 with the one error body and nothing bad is stored.

The limits are generous ceilings of what is meaningful, not policy: per-deployment limits
(points per stroke, body size) are settings, checked on top of these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Largest value a signed 64-bit database column holds (SQLite INTEGER, PostgreSQL BIGINT):
# a larger id or offset can match no row, and the drivers raise OverflowError on it.
DB_INT_MAX = 2**63 - 1

# Largest frame index any API accepts: 10 million frames is over four days at 24 fps.
FRAME_MAX = 10_000_000

# Largest coordinate or translation a request may carry, px. Frames are at most 7680 px wide
# (service.limits); this leaves a wide margin and is exact enough in float32 (24-bit mantissa:
# steps of 1/16 px at 10^6), the precision strokes are stored in. The frame-relative bound
# (service.limits.edit_margin) is checked where the frame's size is known.
COORD_MAX = 1_000_000.0

# Frame rates beyond this are no video anyone shoots or renders; the same ceiling as PRISM's.
FPS_MAX = 1000.0

# Media time, s: one day. Longer is no shot.
SECONDS_MAX = 86_400.0

# Bézier control points one request may carry at all, before the configured caps
# (service.limits.max_stroke_points): 100,000 points are already ~1.5 MB of JSON.
POINTS_MAX = 100_000

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-COORD_MAX, le=COORD_MAX)]
"""An image coordinate or offset, px: finite and within ±COORD_MAX."""
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
"""One ``[x, y]`` pair, px: exactly two coordinates, so a ragged list is refused here."""
Points = Annotated[list[Point], Field(max_length=POINTS_MAX)]
"""A Bézier chain's control points (the (3n+1) shape is the engine's check)."""
Unit = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]
"""A value in 0..1 (pressure)."""
DbInt = Annotated[int, Field(ge=0, le=DB_INT_MAX)]
"""A non-negative id or count that is stored in, or compared with, a database column."""
FrameIndex = Annotated[int, Field(ge=0, le=FRAME_MAX)]


class RequestBody(BaseModel):
    """The base of every request body: unknown fields and non-finite floats are refused
    (``allow_inf_nan`` covers every float field of the model, nested lists included)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
