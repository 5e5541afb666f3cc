"""The output folder of a run, written atomically so readers never see half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputDir:
    """A run's output folder. ``write_bytes`` writes via a temp file and ``os.replace``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from talos.axis.errors import InputError

            raise InputError(f"cannot create output folder {self.path}: {exc.strerror}") from None

    def file(self, relpath: str) -> Path:
        return self.path / relpath

    def write_bytes(self, relpath: str, data: bytes) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def write_text(self, relpath: str, text: str) -> Path:
        return self.write_bytes(relpath, text.encode("utf-8"))
