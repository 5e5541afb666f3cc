"""The exceptions AXIS raises on purpose. Each one's message is one line a user can act on."""

from __future__ import annotations


class AxisError(Exception):
    """Base of every deliberate AXIS failure."""


class InputError(AxisError):
    """The input is missing, unreadable, truncated, empty or otherwise unusable."""


class StrategyError(AxisError):
    """A strategy or step could not be built (unknown name, model failed to load)."""


class UnknownNameError(StrategyError):
    """A registry was asked for a name it does not hold."""
