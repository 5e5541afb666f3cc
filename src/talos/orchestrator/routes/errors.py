"""The engine's exceptions as HTTP answers, with the route's words for what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from talos.orchestrator.errors import CallbackConflict, JobNotFound
from talos.web.errors import conflict, not_found


@contextmanager
def engine_errors(missing: str) -> Iterator[None]:
    """:class:`JobNotFound` as 404 ``no such {missing}``, :class:`CallbackConflict` as 409."""
    try:
        yield
    except JobNotFound:
        raise not_found(f"no such {missing}") from None
    except CallbackConflict as exc:
        raise conflict(str(exc)) from None
