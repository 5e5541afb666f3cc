"""One error body everywhere: ``{"error": {"code", "message", "details"}}``.

Services raise :class:`ApiError` (or one of the helpers below); the handlers installed by
:func:`install_error_handlers` turn it, FastAPI's validation errors (→ 400, not FastAPI's 422:
malformed input is 400 here, 422 is kept for well-formed input we cannot process) and anything
unexpected (→ 500, no traceback leaked) into that body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from talos.web.openapi import allowed_methods

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP failure with a stable machine-readable ``code`` and a one-line ``message``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers: Mapping[str, str] = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def bad_request(code: str, message: str, details: Any = None) -> ApiError:
    return ApiError(400, code, message, details)


def unprocessable(code: str, message: str, details: Any = None) -> ApiError:
    return ApiError(422, code, message, details)


def unavailable(code: str, message: str, retry_after_s: int = 30, details: Any = None) -> ApiError:
    return ApiError(503, code, message, details, {"Retry-After": str(retry_after_s)})


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, code, message)


def _json(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return _json(exc)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    details: list[dict[str, Any]] = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]
    first: dict[str, Any] = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(part for part in first["loc"] if part != "body") or "request"
    message = f"{where}: {first['msg'].removeprefix('Value error, ')}"
    return _json(ApiError(400, "invalid_request", message, details))


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
}


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the methods of the first route whose path matched, so a path
        # served by two routes (PATCH and DELETE of one stroke) answered "Allow: PATCH".
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return _json(ApiError(exc.status_code, code, str(exc.detail), None, headers or None))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return _json(ApiError(500, "internal_error", f"internal error ({type(exc).__name__})"))


_E = TypeVar("_E", bound=Exception)


def add_handler(
    app: FastAPI, exc_class: type[_E], handler: Callable[[Request, _E], Awaitable[Response]]
) -> None:
    """``app.add_exception_handler(exc_class, handler)``, checking that ``handler`` takes
    ``exc_class``: Starlette types every handler as taking any Exception."""
    # Sound: Starlette calls the handler only with instances of exc_class.
    app.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]


def install_error_handlers(app: FastAPI) -> None:
    add_handler(app, ApiError, _api_error)
    add_handler(app, RequestValidationError, _validation_error)
    add_handler(app, StarletteHTTPException, _http_error)
    add_handler(app, Exception, _unexpected)


def install_database_unavailable(app: FastAPI, what: str) -> None:
    """Answer a database that cannot be reached (SQLAlchemy's ``OperationalError``) with 503
    ``database_unavailable`` and ``Retry-After: 10`` instead of a 500: the request may well
    succeed once the database is back. ``what`` names the database in the message."""

    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return _json(unavailable("database_unavailable", f"{what} unreachable", 10))

    add_handler(app, OperationalError, _database_down)
