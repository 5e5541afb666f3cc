"""The output folder of a run, written atomically so readers never see half a file."""

from __future__ import annotations

from pathlib import Path

from talos.axis.errors import InputError
from talos.files import write_atomic


class OutputDir:
    """A run's output folder; every file is written whole (:func:`talos.files.write_atomic`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create output folder {self.path}: {exc.strerror}") from None

    def file(self, relpath: str) -> Path:
        """The path of ``relpath`` in the folder (nothing is created)."""
        return self.path / relpath

    def write_bytes(self, relpath: str, data: bytes) -> Path:
        """Write ``data`` to ``relpath`` (creating its folder) via a temp file and a rename."""
        return write_atomic(self.path / relpath, data)

    def write_text(self, relpath: str, text: str) -> Path:
        """Write ``text`` as UTF-8 to ``relpath``, as :meth:`write_bytes`."""
        return self.write_bytes(relpath, text.encode("utf-8"))
