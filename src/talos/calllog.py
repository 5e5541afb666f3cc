"""A record of the HTTP calls TALOS services make and receive, for sequence diagrams.

When ``tracing.call_log`` (``AXIS_TRACING__CALL_LOG``) names a file, every service appends
one JSON line per call it makes to another module or receives from one:

``{"ts": 1764140000.123, "source": "orchestrator", "target": "axis", "method": "POST",
"path": "/generate", "status": 202, "job_id": "…", "note": "attempt 1"}``

``source``/``target`` are module names (``user``, ``orchestrator``, ``prism``, ``axis``,
``chroma``, ``store``); ``status`` is the answer's HTTP code, or null if no answer came.
Appends are single ``write`` calls on a file opened with ``O_APPEND``, so several processes
can share one log.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def record_call(
    log_path: str | Path | None,
    source: str,
    target: str,
    method: str,
    path: str,
    status: int | None,
    job_id: str | None = None,
    note: str | None = None,
) -> None:
    """Append one call to ``log_path`` (no-op when it is None)."""
    if not log_path:
        return
    entry: dict[str, Any] = {
        "ts": round(time.time(), 6),
        "source": source,
        "target": target,
        "method": method.upper(),
        "path": path,
        "status": status,
    }
    if job_id is not None:
        entry["job_id"] = job_id
    if note:
        entry["note"] = note
    line = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(str(log_path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_calls(log_path: str | Path) -> Iterator[dict[str, Any]]:
    """The recorded calls in time order."""
    lines = Path(log_path).read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    yield from sorted(entries, key=lambda e: e["ts"])
