"""Job-finished callbacks every module sends: POST to the job's callback_url (or
callbacks.orchestrator_url), retried with exponential backoff (tenacity) on network errors,
429 and 5xx; signed, and only to allowed addresses.

**Where a callback may go.** A ``callback_url`` is a URL a client chose, so it obeys the same
rule as input downloads (:mod:`talos.web.egress`): it must resolve to public addresses, unless
its host is the Orchestrator's own callback address (``callbacks.orchestrator_url``, else
``orchestrator.host:port``) or listed in ``callbacks.trusted_hosts``. Modules check it when a
job is submitted (:func:`check_callback_url`, 422) and again on every send, connecting to the
address that was checked.

**Signing.** The Orchestrator gives each job its own key, ``job_key(secret, job_id)`` (an HMAC
of the job id with the Orchestrator's callback secret), in the ``callback_url`` it hands to a
module, as the query parameter ``talos_key``. The module takes the key out of the URL (it is
never sent back) and signs each attempt: ``X-Talos-Timestamp`` (Unix seconds) and
``X-Talos-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body with the key>``. The
Orchestrator recomputes the job's key from its secret and checks the signature and the age
(:func:`verify_signature`). A module never holds the secret; a leaked key lets one forge only
that one job's callback. A job sent to the fallback ``callbacks.orchestrator_url`` (no
``callback_url``) is signed when the module is configured with the same
``orchestrator.callback_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
from talos.web.egress import (
    EgressPolicy,
    EgressRefused,
    EgressUnresolved,
    Resolver,
    egress_client,
    resolve_checked,
    system_resolver,
)
from talos.web.errors import unprocessable

log = logging.getLogger(__name__)

KEY_PARAM = "talos_key"
TIMESTAMP_HEADER = "X-Talos-Timestamp"
SIGNATURE_HEADER = "X-Talos-Signature"
CALLBACK_PATH = "/callbacks/job-completed"


def job_key(secret: str, job_id: str) -> str:
    """The key that signs this job's callbacks: HMAC-SHA256 of the job id with the
    Orchestrator's callback secret (hex, 32 characters), so a module never holds the secret."""
    return hmac.new(secret.encode(), job_id.encode(), hashlib.sha256).hexdigest()[:32]


def signature(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``"<timestamp>." + body`` with the job's key."""
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(key: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers that authenticate ``body`` (sent as is) at ``now`` (Unix seconds)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(key, timestamp, body)}


def verify_signature(
    secret: str, job_id: str, body: bytes, timestamp: str | None, given: str | None,
    max_age_s: float, now: float | None = None,
) -> str | None:  # fmt: skip
    """Why this callback is not authentic (a short reason, no secrets), or None when it is.
    Compared in constant time as bytes; a timestamp more than ``max_age_s`` seconds away from
    ``now`` (either way) is a replay or a broken clock."""
    if not timestamp or not given:
        return "unsigned"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "bad timestamp"
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > max_age_s:
        return "timestamp outside the replay window"
    expected = signature(job_key(secret, job_id), timestamp, body)
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        return "bad signature"
    return None


def split_key(url: str) -> tuple[str, str | None]:
    """``url`` without its ``talos_key`` parameter, and the key (None when absent)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = [v for k, v in query if k == KEY_PARAM]
    if not keys:
        return url, None
    rest = urlencode([(k, v) for k, v in query if k != KEY_PARAM])
    return urlunsplit(parts._replace(query=rest)), keys[-1]


def with_key(url: str, key: str) -> str:
    """``url`` carrying the job's signing key as ``talos_key``."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({KEY_PARAM: key})}"


def redact(url: str | None) -> str | None:
    """``url`` with its signing key replaced by ``***``, for logs and job views."""
    if url is None:
        return None
    bare, key = split_key(url)
    return bare if key is None else f"{bare}{'&' if '?' in bare else '?'}{KEY_PARAM}=***"


def orchestrator_callback_url(settings: Settings) -> str:
    """Where modules report to the Orchestrator: ``callbacks.orchestrator_url``, else the
    Orchestrator's own ``host:port`` and the callback path."""
    return settings.callbacks.orchestrator_url or (
        f"http://{settings.orchestrator.host}:{settings.orchestrator.port}{CALLBACK_PATH}"
    )


def callback_policy(settings: Settings) -> EgressPolicy:
    """Non-public hosts a callback may reach: ``callbacks.trusted_hosts`` and the
    Orchestrator's own callback address (host and port)."""
    own = urlsplit(orchestrator_callback_url(settings))
    trusted = list(settings.callbacks.trusted_hosts)
    if own.hostname:
        try:
            port = own.port or (443 if own.scheme == "https" else 80)
        except ValueError:  # a bad port in the setting: trust nothing of it
            port = None
        if port is not None:
            trusted.append(f"{own.hostname}:{port}")
    return EgressPolicy.of(False, trusted)


def check_callback_url(
    url: str | None, settings: Settings, field: str = "callback_url",
    resolver: Resolver = system_resolver,
) -> None:  # fmt: skip
    """Refuse (422 ``callback_not_allowed``) a callback URL that is not http(s) or whose host
    resolves to a non-public address and is not trusted. A name that does not resolve yet is
    accepted: the send checks again."""
    if url is None:
        return
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise unprocessable("invalid_url", f"{field}: not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise unprocessable("invalid_url", f"{field}: must be an http:// or https:// URL")
    try:
        resolve_checked(parts.hostname, port, callback_policy(settings), resolver)
    except EgressRefused as exc:
        raise unprocessable(
            "callback_not_allowed",
            f"{field}: {exc}; trusted internal hosts go in callbacks.trusted_hosts",
        ) from None
    except EgressUnresolved:
        pass


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
    url: str, body: dict[str, Any], settings: Settings, *, source: str,
    resolver: Resolver = system_resolver,
) -> CallbackOutcome:  # fmt: skip
    """POST ``body`` to ``url`` until it is answered with 2xx or the attempts run out;
    ``source`` names the sender in the call log. Signed when the URL carries the job's key
    (or it is the fallback Orchestrator URL and the secret is configured here); a host that
    is not allowed (see the module doc) fails at once, without a request."""
    cfg = settings.callbacks
    attempts = 0
    target, key = split_key(url)
    secret = settings.orchestrator.callback_token
    if key is None and secret is not None and url == cfg.orchestrator_url:
        key = job_key(secret.get_secret_value(), str(body["job_id"]))
    content = json.dumps(body).encode()
    path = urlsplit(target).path or "/"
    shown = redact(url)
    client = egress_client(callback_policy(settings), timeout=cfg.timeout_s, resolver=resolver)

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        status: int | None = None
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers.update(signed_headers(key, content))  # a fresh timestamp each attempt
        try:
            response = client.post(target, content=content, headers=headers)
            status = response.status_code
        except EgressRefused as exc:
            raise _Permanent(str(exc)) from None
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
        log.warning("callback for job %s to %s failed: %s", body["job_id"], shown, error)
        return CallbackOutcome("failed", attempts, error)
    except _Permanent as exc:
        log.warning("callback for job %s to %s refused: %s", body["job_id"], shown, exc)
        return CallbackOutcome("failed", attempts, str(exc))
    finally:
        client.close()
    return CallbackOutcome("delivered", attempts, None)


class _Permanent(Exception):
    """A 4xx answer: retrying would not help."""
