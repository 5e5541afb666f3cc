"""The camera convention PRISM and AXIS share: a pinhole ``K`` from a horizontal field of view.

PRISM writes it into the cut spec's ``camera.intrinsics``; AXIS uses the same matrix when a
shot gives none (``lines.json`` ``camera.intrinsics``, lifting strokes to 3D), so a shot
traced with or without a cut spec has one camera.
"""

from __future__ import annotations

import math


def default_intrinsics(width: int, height: int, fov_deg: float = 50.0) -> list[list[float]]:
    """Pinhole ``K`` (3×3, px) of a ``width × height`` px image with a horizontal field of
    view of ``fov_deg`` degrees; the principal point at the image centre, square pixels,
    the focal length rounded to 1e-4 px (as it is written to JSON)."""
    f = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return [[round(f, 4), 0.0, width / 2.0], [0.0, round(f, 4), height / 2.0], [0.0, 0.0, 1.0]]
