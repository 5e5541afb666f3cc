"""Job-finished callbacks every module sends: POST to the job's callback_url (or
callbacks.orchestrator_url), retried with exponential backoff (tenacity) on network errors,
429 and 5xx."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from talos.calllog import record_call
from talos.config import Settings

log = logging.getLogger(__name__)


class _Retryable(Exception):
    """A failed attempt worth retrying (message says why)."""


@dataclass(frozen=True)
class CallbackOutcome:
    status: str  # delivered | failed
    attempts: int
    error: str | None


def callback_body(
    job_id: str,
    status: str,
    output_url: str | None,
    error_message: str | None,
    error_code: str | None = None,
    *,
    module_name: str,
) -> dict[str, Any]:
    """The body of ``POST /callbacks/job-completed`` as ``module_name`` reports a job."""
    return {
        "job_id": job_id,
        "module_name": module_name,
        "status": status,
        "output_url": output_url,
        "error_message": error_message,
        "error_code": error_code,
    }


def send_callback(
    url: str, body: dict[str, Any], settings: Settings, *, source: str
) -> CallbackOutcome:
    """POST ``body`` to ``url`` until it is answered with 2xx or the attempts run out;
    ``source`` names the sender in the call log."""
    cfg = settings.callbacks
    attempts = 0
    path = urlsplit(url).path or "/"

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        status: int | None = None
        try:
            response = httpx.post(url, json=body, timeout=cfg.timeout_s)
            status = response.status_code
        except httpx.HTTPError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        finally:
            record_call(
                settings.tracing.call_log,
                source,
                "orchestrator",
                "POST",
                path,
                status,
                body["job_id"],
                note=f"callback attempt {attempts}",
            )
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status >= 400:
            raise _Permanent(f"HTTP {status}")

    retrying = Retrying(
        stop=stop_after_attempt(cfg.attempts),
        wait=wait_exponential(multiplier=cfg.backoff_s, max=cfg.backoff_max_s),
        retry=retry_if_exception_type(_Retryable),
        reraise=False,
    )
    try:
        retrying(attempt)
    except RetryError as exc:
        error = str(exc.last_attempt.exception())
        log.warning("callback for job %s to %s failed: %s", body["job_id"], url, error)
        return CallbackOutcome("failed", attempts, error)
    except _Permanent as exc:
        log.warning("callback for job %s to %s refused: %s", body["job_id"], url, exc)
        return CallbackOutcome("failed", attempts, str(exc))
    return CallbackOutcome("delivered", attempts, None)


class _Permanent(Exception):
    """A 4xx answer: retrying would not help."""
