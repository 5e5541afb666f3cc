"""Every module's OpenAPI document, made to tell the truth about errors.

FastAPI documents a 422 "Validation Error" for every operation with input, but these services
answer malformed input with 400 and the shared error body (:mod:`talos.web.errors`); it does
not know that a route behind the X-API-Key dependency answers 401 and 403, nor that the body
limit answers 413. :func:`document_errors` rewrites the document once, from the routes
themselves, so that a client (or schemathesis) reading it sees every status code an operation
really answers, each with the one error model:

- 400 on every operation that takes parameters or a body (a bad one is refused with 400);
- 413 on every operation with a body (the request body limit, checked before parsing);
- 401 and 403 on every operation that depends on :func:`~talos.web.auth.require_api_key`
  (it has that dependency's ``X-API-Key`` header parameter);
- the codes a route names itself (``responses=error_response(404, 409)``), those the app
  names for it (``codes={"GET /jobs/{job_id}": (404,)}``) and those the app answers anywhere
  (``everywhere``, e.g. AXIS's 503 when its database is down);
- FastAPI's own 422 only where the route named 422 itself (well-formed but unprocessable).

Job ids in paths get their pattern and length (:data:`~talos.contracts.patterns.JOB_ID_PATTERN`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from talos.contracts.patterns import JOB_ID_PATTERN

JOB_ID_MAX = 128  # characters; the pattern allows 1-128 too


class ErrorDetail(BaseModel):
    code: str = Field(..., examples=["invalid_request"], description="Stable, machine-readable.")
    message: str = Field(..., examples=["video_source_url: unsupported scheme 'ftp'"])
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every error answer of every TALOS module."""

    error: ErrorDetail


# What each error status means across the modules (a route may say more in its own words).
STATUS_TEXT: dict[int, str] = {
    400: "Malformed input: a parameter, header or body that does not fit the schema, or a "
    "value the service refuses (bad URL, unknown option, id out of range).",
    401: "X-API-Key missing (only when API keys are configured).",
    403: "X-API-Key (or callback token) not accepted.",
    404: "No such job, frame, stroke, entry or profile.",
    405: "Method not allowed here; the Allow header lists the ones that are.",
    409: "Conflict with the current state (the id exists, the job has not finished, ...).",
    412: "If-Match does not match the current ETag.",
    413: "Request body over the size limit (http.max_body_bytes).",
    422: "Well-formed but unprocessable input (unreadable video, limits).",
    503: "Temporarily unable (database down, queue full, model not loaded); see Retry-After.",
}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def error_response(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries (FastAPI route argument) for these error statuses."""
    return {
        status: {"model": ErrorResponse, "description": STATUS_TEXT.get(status, "Error")}
        for status in statuses
    }


def _protected(operation: dict[str, Any]) -> bool:
    """Whether the operation sits behind :func:`~talos.web.auth.require_api_key`, whose
    ``X-API-Key`` header parameter is in every operation that depends on it."""
    return any(
        param.get("in") == "header" and str(param.get("name", "")).lower() == "x-api-key"
        for param in operation.get("parameters", [])
    )


def _add(responses: dict[str, Any], status: int) -> None:
    entry = responses.setdefault(str(status), {"description": STATUS_TEXT.get(status, "Error")})
    entry["content"] = {"application/json": {"schema": dict(_ERROR_REF)}}


def _is_fastapi_422(entry: dict[str, Any]) -> bool:
    schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == _FASTAPI_422)


def rewrite(
    document: dict[str, Any],
    everywhere: Iterable[int] = (),
    codes: Mapping[str, Iterable[int]] | None = None,
) -> dict[str, Any]:
    """``document`` (an OpenAPI dict) with the error codes of the module docstring."""
    extra = tuple(everywhere)
    named = {key: tuple(value) for key, value in (codes or {}).items()}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "422" in responses and _is_fastapi_422(responses["422"]):
                del responses["422"]
            params = operation.get("parameters", [])
            if params or "requestBody" in operation:
                _add(responses, 400)
            if "requestBody" in operation:
                _add(responses, 413)
            if _protected(operation):
                _add(responses, 401)
                _add(responses, 403)
            for status in (*extra, *named.pop(f"{method.upper()} {path}", ())):
                _add(responses, status)
            for code in [c for c in responses if c[:1] in ("4", "5")]:
                _add(responses, int(code))
            for param in params:
                if param.get("in") == "path" and param.get("name") in ("job_id", "base_job_id"):
                    schema = param.setdefault("schema", {})
                    schema.update(pattern=JOB_ID_PATTERN, maxLength=JOB_ID_MAX, minLength=1)
    if named:
        raise ValueError(f"error codes named for operations that do not exist: {sorted(named)}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template=_REF_TEMPLATE)
    schemas.update(schemas["ErrorResponse"].pop("$defs", {}))
    return document


_REF_TEMPLATE = "#/components/schemas/{model}"


def document_errors(
    app: FastAPI, everywhere: Iterable[int] = (), codes: Mapping[str, Iterable[int]] | None = None
) -> None:
    """Make ``app.openapi()`` return the rewritten document (built once, on first use);
    ``codes`` names the error statuses of single operations (``"METHOD /path"``)."""
    extra = tuple(everywhere)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = rewrite(document, extra, codes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the app's documented operations answer at ``path`` (a concrete path),
    with HEAD wherever GET is (Starlette answers it), for the ``Allow`` header of a 405."""
    methods: set[str] = set()
    for template, item in app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            methods.update(m.upper() for m in item if m in _METHODS)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
