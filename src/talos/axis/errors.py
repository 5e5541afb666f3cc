"""The exceptions AXIS raises on purpose. Each one's message is one line a user can act on."""

from __future__ import annotations

from talos import errors


class AxisError(errors.TalosError):
    """Base of every deliberate AXIS failure (a :class:`~talos.errors.TalosError`, so code that
    reports TALOS's failures as one line catches the engine's too)."""


class InputError(AxisError, errors.InputError):
    """The input is missing, unreadable, truncated, empty or otherwise unusable."""


class StrategyError(AxisError):
    """A strategy or step could not be built (unknown name, model failed to load)."""


class UnknownNameError(StrategyError):
    """A registry was asked for a name it does not hold."""
