"""Ragged arrays: many variable-length rows (paths, chains, knots) stored back to back, and
the variable-length runs of set cells in a grid."""

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


def within(sizes: np.ndarray) -> np.ndarray:
    """Each row's position inside its piece, for pieces of ``sizes`` rows back to back:
    ``[0, 1, …, sizes[0] − 1, 0, 1, …]`` ``(Σ sizes,)`` int64."""
    sizes = np.asarray(sizes, np.int64)
    positions: np.ndarray = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return positions


def row_runs(flags: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of set cells along each row of a 2-D bool grid, row by row: ``[(row, start,
    stop), ...]`` with ``stop`` exclusive (work on a run of tiles is one call, not one per
    tile)."""
    edges = np.diff(np.pad(np.asarray(flags, np.int8), ((0, 0), (1, 1))), axis=1)
    starts, stops = np.nonzero(edges == 1), np.nonzero(edges == -1)
    return list(zip(starts[0].tolist(), starts[1].tolist(), stops[1].tolist(), strict=True))
