"""The retry policy of a stage: which failures are transient, and how long to wait.

Transient (retried): connection errors and timeouts, HTTP 408, 425, 429, 500, 502, 503, 504,
a module callback with ``status: failed`` and ``transient: true``, and a stage whose callback
did not come within ``stage_timeout_s``. Everything else is permanent (notably 400, 401, 403,
404, 409, 422): the job dead-letters at once.

The wait before attempt ``n + 1`` (after ``n`` failures) is tenacity's exponential backoff
with jitter: ``min(cap, base · 2^(n−1)) + U(0, jitter)`` seconds. The attempts themselves are
scheduled through the database, not a sleeping loop, so a restarted Orchestrator resumes
waiting and retrying where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from tenacity import RetryCallState, Retrying, wait_exponential, wait_random

from talos.config import OrchestratorSettings

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed: a one-line ``reason``, the HTTP code if any, and whether a
    retry may help."""

    reason: str
    transient: bool
    http_status: int | None = None


def classify_status(status: int, reason: str) -> Failure:
    """A non-2xx answer as a :class:`Failure`."""
    return Failure(f"HTTP {status}: {reason}", status in TRANSIENT_STATUSES, status)


def classify_exception(exc: Exception) -> Failure:
    """A failed request (no answer) as a :class:`Failure`: network trouble is transient."""
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return Failure(f"{type(exc).__name__}: {exc}".rstrip(": "), True, None)
    return Failure(f"{type(exc).__name__}: {exc}", False, None)


class RetryPolicy:
    """Attempts per stage and the backoff between them (from :class:`OrchestratorSettings`)."""

    def __init__(self, settings: OrchestratorSettings) -> None:
        self.attempts = settings.retry_attempts
        self._wait = wait_exponential(
            multiplier=settings.backoff_base_s, exp_base=2, max=settings.backoff_cap_s
        ) + wait_random(0, settings.backoff_jitter_s)

    def should_retry(self, failure: Failure, attempts_made: int) -> bool:
        return failure.transient and attempts_made < self.attempts

    def wait_s(self, attempts_made: int) -> float:
        """Seconds to wait after ``attempts_made`` failed attempts (≥ 1)."""
        # The waits read only the attempt number; the Retrying object is never used.
        state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(1, attempts_made)
        return float(self._wait(state))
