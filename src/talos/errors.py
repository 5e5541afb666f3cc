"""The base of the deliberate failures outside the engine (store, databases).

:class:`~talos.axis.errors.AxisError` is the engine's base; code that reports either kind as
one line a user can act on catches both.
"""

from __future__ import annotations


class TalosError(Exception):
    """A deliberate failure of a shared part of TALOS; its message is one actionable line."""
