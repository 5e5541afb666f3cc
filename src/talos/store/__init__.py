"""The shared data store: every module's artifacts under ``/{job_id}/{module}/...``.

One :class:`Store` over fsspec serves a local folder (``file://./data/store``, the default)
and S3-compatible object stores (``s3://bucket/prefix``, endpoint and credentials from
``Settings.store``, i.e. ``AXIS_STORE__*`` environment variables, or the usual AWS variables).

Keys are ``/``-separated relative paths (``abc123/axis/lines.json``); a key with an empty,
``.`` or ``..`` segment, a backslash or a leading ``/`` is refused, so no key escapes the root.
Writes are atomic: a local file is written to a temp file in the same folder and renamed over
the target; an object store receives one ``PUT``. Readers never see half a file.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec

from talos.errors import TalosError
from talos.files import write_atomic

if TYPE_CHECKING:
    from talos.config import StoreSettings

__all__ = [
    "Store",
    "StoreError",
    "StoreKeyError",
    "StoreNotFoundError",
    "s3_options",
    "validate_key",
]

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


class StoreError(TalosError):
    """The store could not be reached or refused an operation."""


class StoreKeyError(StoreError, ValueError):
    """A key is not a safe relative path."""


class StoreNotFoundError(StoreError, KeyError):
    """No object under this key."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the plain line
        return str(self.args[0]) if self.args else "not found"


def validate_key(key: str) -> str:
    """Return ``key`` if every ``/``-separated segment is a plain name, else raise
    :class:`StoreKeyError` (no empty, ``.`` or ``..`` segments, no absolute paths)."""
    if not isinstance(key, str) or not key:
        raise StoreKeyError("store key must be a non-empty string")
    parts = key.split("/")
    for part in parts:
        if part in ("", ".", "..") or not _SEGMENT.match(part):
            raise StoreKeyError(f"unsafe store key: {key!r}")
    return key


def _split_url(url: str) -> tuple[str, str]:
    """``(protocol, root)`` of a store URL; a bare path means a local folder."""
    if "://" not in url:
        return "file", str(Path(url).expanduser().resolve())
    protocol, rest = url.split("://", 1)
    protocol = protocol.lower()
    if protocol in ("file", "local"):
        return "file", str(Path(rest or ".").expanduser().resolve())
    if protocol in ("s3", "s3a"):
        root = rest.strip("/")
        if not root:
            raise StoreError(f"store URL {url!r} names no bucket")
        return "s3", root
    if protocol == "memory":  # fsspec's in-process store, handy for unit tests
        return "memory", "/" + rest.strip("/")
    raise StoreError(f"unsupported store URL scheme {protocol!r} (use file:// or s3://)")


class Store:
    """Byte objects under string keys, below one root URL.

    >>> store = Store("file:///tmp/axis-store")
    >>> store.put_bytes("job1/axis/lines.json", b"{}")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.protocol, self.root = _split_url(url)
        options: dict[str, Any] = {}
        if self.protocol == "s3":
            options = _s3_options(endpoint_url, access_key_id, secret_access_key)
        try:
            self.fs = fsspec.filesystem(self.protocol, **options)
        except ImportError as exc:
            raise StoreError(
                f"store scheme {self.protocol}:// needs an extra package: {exc}"
            ) from None
        if self.protocol == "file":
            Path(self.root).mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> Store:
        """The store ``Settings.store`` describes (secrets unwrapped here only)."""

        return cls(
            settings.url,
            endpoint_url=settings.endpoint_url,
            access_key_id=_reveal(settings.access_key_id),
            secret_access_key=_reveal(settings.secret_access_key),
        )

    # -- addressing -------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self.root}/{validate_key(key)}"

    def url_for(self, key: str) -> str:
        """The full URL of ``key`` (``file:///abs/path`` or ``s3://bucket/prefix/key``)."""
        path = self._path(key)
        return f"file://{path}" if self.protocol == "file" else f"{self.protocol}://{path}"

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.root}"

    # -- reading ----------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; :class:`StoreNotFoundError` if there is none."""
        path = self._path(key)
        try:
            data: bytes = self.fs.cat_file(path)
            return data
        except FileNotFoundError:
            raise StoreNotFoundError(f"no such object in the store: {key}") from None
        except IsADirectoryError:
            raise StoreNotFoundError(f"no such object in the store: {key}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {key} from the store: {exc}") from None

    def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            return bool(self.fs.isfile(path))
        except OSError as exc:
            raise StoreError(f"cannot reach the store: {exc}") from None

    def list(self, prefix: str = "") -> list[str]:
        """Every key below ``prefix`` (a folder-like key or empty for all), sorted."""
        base = self._path(prefix) if prefix else self.root
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot list {prefix or '/'} in the store: {exc}") from None
        root = self.root.strip("/") + "/"
        keys = [path.strip("/").removeprefix(root) for path in found]
        return sorted(key for key in keys if not key.endswith(".tmp"))

    def download(self, key: str, local_path: str | Path) -> Path:
        """Copy one object to a local file (atomically) and return its path."""
        return write_atomic(Path(local_path), self.get_bytes(key))

    # -- writing ----------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` atomically; return the object's URL."""
        path = self._path(key)
        try:
            if self.protocol == "file":
                write_atomic(Path(path), data)
            else:
                self.fs.pipe_file(path, data)  # one PUT: all or nothing
        except OSError as exc:
            raise StoreError(f"cannot write {key} to the store: {exc}") from None
        return self.url_for(key)

    def put_file(self, key: str, local_path: str | Path) -> str:
        """Upload one local file under ``key`` atomically; return the object's URL."""
        return self.put_bytes(key, Path(local_path).read_bytes())

    def upload_dir(self, local_dir: str | Path, prefix: str) -> builtins.list[str]:
        """Upload every file below ``local_dir`` to ``prefix/<relative path>``; return keys."""
        base = Path(local_dir)
        keys = []
        for path in sorted(_walk_files(base)):
            key = f"{prefix}/{path.relative_to(base).as_posix()}"
            self.put_file(key, path)
            keys.append(key)
        return keys

    def delete(self, key: str) -> None:
        """Remove one object (no error if it is already gone)."""
        path = self._path(key)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot delete {key} from the store: {exc}") from None

    def ping(self) -> None:
        """Raise :class:`StoreError` unless the store's root can be reached."""
        try:
            if self.protocol == "file":
                if not os.access(self.root, os.W_OK):
                    raise StoreError(f"store folder {self.root} is not writable")
            else:
                self.fs.ls(self.root.split("/", 1)[0], refresh=True)
        except StoreError:
            raise
        except Exception as exc:  # botocore raises many unrelated types when unreachable
            raise StoreError(f"store {self.url} is unreachable: {exc}") from None


def _reveal(secret: Any) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def _s3_options(
    endpoint_url: str | None, access_key_id: str | None, secret_access_key: str | None
) -> dict[str, Any]:
    options: dict[str, Any] = {
        # a fresh instance per caller: fsspec's cache would share event loops across forks
        "skip_instance_cache": True,
        # fail fast when the endpoint is down (readiness probes) instead of minutes of retries
        "config_kwargs": {"connect_timeout": 3, "retries": {"max_attempts": 2}},
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if access_key_id:
        options["key"] = access_key_id
    if secret_access_key:
        options["secret"] = secret_access_key
    return options


def s3_options(settings: StoreSettings) -> dict[str, Any]:
    """fsspec/s3fs options for any ``s3://`` URL, with the store's endpoint and credentials
    (unset credentials fall back to the usual AWS environment variables)."""
    return _s3_options(
        settings.endpoint_url, _reveal(settings.access_key_id), _reveal(settings.secret_access_key)
    )


def _walk_files(base: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            if not name.endswith(".tmp"):
                yield Path(dirpath) / name
