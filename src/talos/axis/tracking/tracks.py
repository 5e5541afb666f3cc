"""Tracks: one line's life over a shot, the unit of AXIS's temporal output.

A track is what ``lines.json`` lists under ``tracks`` (keyed by ``stroke_id``): the frames it
was seen in, the tracks it came from and went into, and how consistently it moved. Splits and
merges make the track graph: when the vectorizer breaks a line in two, the smaller piece is a
new track whose ``parents`` hold the line's id (and the line's ``children`` the new id); when
two tracks join into one stroke, the one that ends lists the one that goes on in its
``children``, and that one lists it in its ``parents``.

``consistency`` is the mean, over the frames after a track's first, of the share of its line
that was where the motion predicted: ``c / max(n_pred, n_seen)`` with ``n_pred`` the points
predicted from the last frame, ``n_seen`` those sampled on this frame's stroke and ``c`` the
stroke points that lay on the prediction (all at the tracker's sample spacing). 1 is a line
that moved exactly with the picture and kept its extent; a line that boils, grows or shrinks
scores lower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talos.axis.geometry.sampling import polyline_length

WHOLE_SHARE = 0.8  # seen at least this share of the whole line's length, the line is whole
WHOLE_MEMORY = 12  # frames: a line seen shorter for longer than this has changed, not hidden


@dataclass
class Track:
    """One line's history. ``points`` ``(n, 2)`` px: where it was last seen, sampled along
    the curve in order and moved with the motion since; ``velocity`` ``(2,)`` px/frame: its
    last motion, to predict it while it is hidden. ``whole`` ``(m, 2)`` px: the line as last
    seen whole (a line going behind an occluder is seen shorter and shorter), moved with
    the line since; re-identification compares a returning line with it, and with
    ``whole_look`` ``(m, 2, 3)``: the colours (CIE Lab) either side of it then
    (:func:`~talos.axis.tracking.reid.side_colours`)."""

    track_id: int
    points: np.ndarray
    closed: bool
    first_frame: int
    last_frame: int
    length: int = 1
    lost: int = 0
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    spans: list[list[int]] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    split_from: int | None = None  # the established line this piece broke off, if any
    consistency_sum: float = 0.0
    consistency_count: int = 0
    reidentified: int = 0
    whole_look: np.ndarray | None = None
    whole: np.ndarray = field(init=False)
    whole_frame: int = field(init=False)
    whole_length: float = field(init=False)
    whole_closed: bool = field(init=False)

    def __post_init__(self) -> None:
        if not self.spans:
            self.spans = [[self.first_frame, self.first_frame]]
        self.whole, self.whole_frame = self.points, self.first_frame
        self.whole_length, self.whole_closed = polyline_length(self.points), self.closed

    def seen(
        self,
        frame: int,
        points: np.ndarray,
        closed: bool,
        consistency: float | None,
        look: np.ndarray | None = None,
        length: float | None = None,
    ) -> None:
        """The line was seen again in ``frame`` at ``points`` (``length`` px long, measured
        here when not given), with the colours ``look`` ``(n, 2, 3)`` either side of them
        (None: not known); ``consistency`` is this frame's share of the line that was where
        it was predicted (None: no prediction to score)."""
        if self.spans and self.spans[-1][1] == frame - 1:
            self.spans[-1][1] = frame
        else:
            self.spans.append([frame, frame])
        self.points, self.closed = points, closed
        self.last_frame, self.lost = frame, 0
        self._remember_whole(frame, look, length)
        self.length += 1
        if consistency is not None:
            self.consistency_sum += consistency
            self.consistency_count += 1

    def _remember_whole(self, frame: int, look: np.ndarray | None, length: float | None) -> None:
        """Keep ``points`` as the whole line unless they are much shorter than the whole
        line seen lately: then the line is hidden in part, or drawn in part."""
        if length is None:
            length = polyline_length(self.points)
        if length >= WHOLE_SHARE * self.whole_length or frame - self.whole_frame > WHOLE_MEMORY:
            self.whole, self.whole_frame, self.whole_length = self.points, frame, length
            self.whole_closed, self.whole_look = self.closed, look

    @property
    def consistency(self) -> float | None:
        if not self.consistency_count:
            return None
        return round(self.consistency_sum / self.consistency_count, 4)

    def row(self) -> dict[str, Any]:
        """The track's entry in ``lines.json`` ``tracks``."""
        return {
            "stroke_id": self.track_id,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "length": self.length,
            "frames": [list(span) for span in self.spans],
            "parents": sorted(set(self.parents)),
            "children": sorted(set(self.children)),
            "split_from": self.split_from,
            "consistency": self.consistency,
        }


def link(parent: Track, child: Track) -> None:
    """Record that ``child`` came from ``parent`` (a split, or a merge into ``child``)."""
    parent.children.append(child.track_id)
    child.parents.append(parent.track_id)


def table_summary(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Count and median length (frames) of a track table."""
    lengths = [r["length"] for r in rows]
    return {
        "tracks": float(len(rows)),
        "median_track_length": float(np.median(lengths)) if lengths else 0.0,
    }
