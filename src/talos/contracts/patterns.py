"""Patterns of the fields every module's requests share."""

from __future__ import annotations

JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
STYLE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
