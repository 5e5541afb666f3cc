"""The base of TALOS's deliberate failures.

:class:`TalosError` is raised by the shared parts (store, databases, media) and is the base of
the engine's :class:`~talos.axis.errors.AxisError`: code that reports a failure as one line a
user can act on catches :class:`TalosError` alone. :class:`InputError` is the unusable input of
any module; the engine's own :class:`~talos.axis.errors.InputError` is one.
"""

from __future__ import annotations


class TalosError(Exception):
    """A deliberate failure of TALOS; its message is one actionable line."""


class InputError(TalosError):
    """An input (a video, a file, a document) is missing, unreadable or unusable."""
