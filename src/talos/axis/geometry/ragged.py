"""Ragged arrays: many variable-length rows (paths, chains, knots) stored back to back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def split(values: np.ndarray, sizes: np.ndarray | Sequence[int]) -> list[np.ndarray]:
    """``values`` cut along axis 0 into consecutive pieces of ``sizes`` rows (views).

    The same as ``np.split(values, np.cumsum(sizes)[:-1])``, but one plain slice per piece:
    ``np.split`` costs a few microseconds a piece, which adds up to milliseconds on a
    frame's hundreds of strokes.
    """
    ends = np.cumsum(sizes, dtype=np.int64).tolist()
    return [values[a:b] for a, b in zip([0, *ends], ends, strict=False)]  # one start extra
