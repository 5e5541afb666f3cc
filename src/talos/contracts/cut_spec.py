"""The published JSON Schema of ``cut_spec.json`` (PRISM writes it, AXIS reads it) and
validation against it."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from talos.contracts.documents import SchemaError, check_document


@cache
def cut_spec_schema() -> dict[str, Any]:
    """The cut_spec JSON Schema (draft 2020-12) as a dict."""
    text = resources.files("talos.contracts").joinpath("cut_spec.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(cut_spec_schema())


def validate_cut_spec(document: Any, source: str = "cut_spec.json") -> None:
    """Raise :class:`~talos.contracts.documents.SchemaError` naming the first problem, if any.

    Besides the schema, the frame range must be ordered (``first <= last``).
    """
    check_document(_validator(), document, source)
    first, last = document["frame_range"]
    if first > last:
        raise SchemaError(f"{source}: frame_range: first frame {first} is after last {last}")
