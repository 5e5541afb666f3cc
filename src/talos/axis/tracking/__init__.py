"""Temporal coherence: stable stroke ids across frames, smoothing, and Δκ."""

from talos.axis.tracking.smoothing import TrackSmoother
from talos.axis.tracking.tracker import StrokeTracker, delta_kappa

__all__ = ["StrokeTracker", "TrackSmoother", "delta_kappa"]
