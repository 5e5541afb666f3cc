"""The X-API-Key check every module's protected routes depend on.

Keys come from ``Settings.api_keys`` (``AXIS_API_KEYS``, comma-separated); none configured
means no check. The app keeps its settings in ``app.state.settings``.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Header, Request
from pydantic import SecretStr

from talos.web.errors import ApiError


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two secrets, compared as UTF-8 bytes: ``compare_digest``
    raises TypeError on a ``str`` with non-ASCII characters, which a client can send."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_api_key(keys: Sequence[SecretStr], given: str | None) -> None:
    """Nothing when ``keys`` is empty or ``given`` is one of them; else 401 (no key) or 403."""
    if not keys:
        return
    if not given:
        raise ApiError(
            401,
            "unauthorized",
            "X-API-Key header required",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    if not any(same_secret(given, key.get_secret_value()) for key in keys):
        raise ApiError(403, "forbidden", "X-API-Key not accepted")


def require_api_key(
    request: Request,
    x_api_key: Annotated[
        str | None, Header(description="Required when AXIS_API_KEYS is set.")
    ] = None,
) -> None:
    """FastAPI dependency: the request's X-API-Key against the app's configured keys."""
    check_api_key(request.app.state.settings.api_keys, x_api_key)
