"""JSON documents checked against their JSON Schema, the same way in every module: the first
problem (in a stable order) as one line that names the document and the path in it."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from talos.errors import TalosError


class SchemaError(TalosError):
    """A document does not match its schema; the message names the document and the path."""


def check_document(validator: Draft202012Validator, document: Any, source: str) -> None:
    """Raise :class:`SchemaError` ``"{source}: {path}: {problem}"`` for the first of
    ``validator``'s errors on ``document`` (sorted by their text, so the same document always
    names the same problem); nothing when it is valid."""
    error = next(iter(sorted(validator.iter_errors(document), key=str)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise SchemaError(f"{source}: {where}: {error.message}")
