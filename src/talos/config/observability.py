"""Settings of what every TALOS process reports about itself: its log lines and the call log
of inter-module HTTP calls."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from talos.config.base import Section


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = Field(False, description="One JSON object per log line.")


class TracingSettings(Section):
    call_log: Path | None = Field(
        None, description="Append every inter-module HTTP call here (JSON lines); null = off."
    )
