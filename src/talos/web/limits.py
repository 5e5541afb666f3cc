"""Size limits every module's HTTP API applies before a route runs: the request body
(:class:`BodyLimit`, ``http.max_body_bytes``) and the length of header values an error message
repeats (:func:`clip_echo`).

Without a body limit a 20 MB body was read into memory whole (and parsed) before any check,
and the memory was not given back. The middleware refuses a body that declares a larger
``Content-Length`` before reading a byte of it, and one that streams past the limit (chunked,
or longer than declared) as soon as it does, with the one JSON error body (413). The server
discards the unread rest of a refused body at the protocol level, so the connection stays
usable for the client's next request.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talos.web.errors import ApiError

ECHO_MAX = 256  # characters of a client's header value an error message repeats


def clip_echo(value: str, limit: int = ECHO_MAX) -> str:
    """``value`` as an error message may repeat it: at most ``limit`` characters, the cut
    marked with ``…`` (a 100 KB ``If-Match`` must not come back as a 100 KB error)."""
    return value if len(value) <= limit else f"{value[:limit]}…"


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"request body is over the limit of {max_bytes} bytes (http.max_body_bytes)",
        {"max_bytes": max_bytes},
    )


async def _send_error(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413 (see the module)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            await _send_error(send, ApiError(400, "invalid_request", "bad Content-Length"))
            return
        if declared > self.max_bytes:
            await _send_error(send, _too_large(self.max_bytes))
            return
        state: dict[str, Any] = {"received": 0, "over": False, "started": False}

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    # Stop here: the route sees a disconnect (and answers something that
                    # guarded_send drops); the 413 below is what the client gets.
                    state["over"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise  # the app's own failure: the error handlers outside answer it
        if state["over"] and not state["started"]:
            await _send_error(send, _too_large(self.max_bytes))


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when none is declared), or None when it is not a
    non-negative integer."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return 0


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    """Refuse request bodies over ``max_bytes`` (``Settings.http.max_body_bytes``) on ``app``."""
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
