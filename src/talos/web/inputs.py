"""Fetching job inputs safely: allowed schemes, allowed folders, no private addresses.

* ``file://`` — only below ``inputs.allowed_roots``, after resolving ``..`` and symlinks;
* ``s3://bucket/key`` — read with the store's endpoint and credentials (``Settings.store``);
* ``http(s)://`` — with timeouts and a size limit, through :mod:`talos.web.egress`: hosts
  resolving to loopback, private, link-local or reserved addresses are refused unless
  ``inputs.allow_private_addresses`` or the host is in ``inputs.trusted_hosts``, and the
  download connects to the address that was checked (no second lookup to rebind). Redirects
  are followed by hand (at most 3) so every hop is checked the same way.

Malformed or disallowed URLs, and local paths the OS refuses to look at (a name over 255
bytes, a symlink loop, no permission), raise :class:`ApiError` 400; inputs that cannot be read
or are too large raise 422.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import fsspec
import httpx

from talos.config import Settings
from talos.store import s3_options
from talos.web.egress import (
    EgressPolicy,
    EgressRefused,
    EgressUnresolved,
    Resolver,
    egress_client,
    resolve_checked,
    system_resolver,
)
from talos.web.errors import ApiError, bad_request, unprocessable
from talos.web.limits import clip_echo

MAX_REDIRECTS = 3
CHUNK = 1 << 20


@dataclass(frozen=True)
class InputUrl:
    """A checked input URL; ``path`` is the resolved local path for ``file://``."""

    url: str
    scheme: str
    path: Path | None = None


def input_policy(settings: Settings) -> EgressPolicy:
    """Which non-public hosts input downloads may reach (``inputs.*``)."""
    return EgressPolicy.of(settings.inputs.allow_private_addresses, settings.inputs.trusted_hosts)


def check_url(
    url: str, settings: Settings, field: str, resolver: Resolver = system_resolver
) -> InputUrl:
    """Parse and check ``url`` (the request field ``field``) or raise a 400 :class:`ApiError`.
    ``resolver`` looks up http(s) hosts (the system's unless a test passes one)."""
    shown = clip_echo(url)  # what an error message repeats of it
    try:
        parts = urlsplit(url)
    except ValueError:
        raise bad_request("invalid_url", f"{field}: not a valid URL") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise bad_request("invalid_url", f"{field}: not a URL (no scheme): {shown!r}")
    if scheme not in settings.inputs.allowed_schemes:
        allowed = ", ".join(settings.inputs.allowed_schemes)
        raise bad_request(
            "unsupported_scheme", f"{field}: unsupported scheme {scheme!r} (allowed: {allowed})"
        )
    if scheme == "file":
        return InputUrl(url, scheme, _check_local(parts.netloc, parts.path, settings, field))
    if not parts.netloc or not parts.hostname:
        raise bad_request("invalid_url", f"{field}: URL names no host or bucket: {shown!r}")
    if scheme == "s3" and not parts.path.strip("/"):
        raise bad_request("invalid_url", f"{field}: s3 URL names no object: {shown!r}")
    if scheme in ("http", "https"):
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise bad_request("invalid_url", f"{field}: bad port in {shown!r}") from None
        try:
            resolve_checked(parts.hostname, port, input_policy(settings), resolver)
        except EgressRefused as exc:
            raise bad_request("address_not_allowed", f"{field}: {exc}") from None
        except EgressUnresolved:
            pass  # a name that does not resolve now may later: the worker checks again
    return InputUrl(url, scheme)


def _check_local(netloc: str, raw_path: str, settings: Settings, field: str) -> Path:
    if netloc not in ("", "localhost"):
        raise bad_request("invalid_url", f"{field}: file:// URLs must not name a host")
    text = unquote(raw_path)
    if not text.startswith("/") or "\x00" in text:
        raise bad_request("invalid_url", f"{field}: file:// URL needs an absolute path")
    if ".." in text.split("/"):
        raise bad_request("path_not_allowed", f"{field}: '..' is not allowed in file paths")
    resolved = Path(os.path.realpath(text))
    for root in settings.inputs.allowed_roots:
        real_root = Path(os.path.realpath(root))
        if resolved == real_root or real_root in resolved.parents:
            _check_usable(resolved, field)
            return resolved
    raise bad_request(
        "path_not_allowed", f"{field}: {clip_echo(text)} is outside the allowed input folders"
    )


def _check_usable(path: Path, field: str) -> None:
    """400 when the OS refuses to look at ``path`` (a name over 255 bytes, a symlink loop, a
    folder we may not enter): such a request can never work, and the ``OSError`` must not
    reach the caller as a 500. A missing file is left to :func:`fetch` (422 input_not_found):
    it may be written before the job runs."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise bad_request(
            "invalid_path", f"{field}: cannot use {clip_echo(str(path))}: {exc.strerror}"
        ) from None


def fetch(
    source: InputUrl, dest: Path, settings: Settings, max_bytes: int, field: str,
    resolver: Resolver = system_resolver,
) -> Path:  # fmt: skip
    """Copy the input to the local file ``dest`` (a ``file://`` input is used in place) and
    return the local path. 422 when it cannot be read or exceeds ``max_bytes``; 400 when an
    http(s) host (or a redirect's) is not allowed. ``resolver``: see :func:`check_url`."""
    if source.scheme == "file":
        assert source.path is not None
        _check_usable(source.path, field)  # again: the file may have changed since the check
        try:
            if not source.path.is_file():
                raise unprocessable("input_not_found", f"{field}: no such file: {source.path}")
            size = source.path.stat().st_size
        except OSError as exc:  # removed between the two looks
            raise unprocessable("input_not_found", f"{field}: {exc.strerror}") from None
        _check_size(size, max_bytes, field)
        return source.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.scheme == "s3":
        return _fetch_s3(source.url, dest, settings, max_bytes, field)
    return _fetch_http(source.url, dest, settings, max_bytes, field, resolver)


def read_small(
    source: InputUrl, dest: Path, settings: Settings, field: str,
    resolver: Resolver = system_resolver,
) -> bytes:  # fmt: skip
    """A small input (a cut spec) as bytes, at most 1 MiB."""
    return fetch(source, dest, settings, 1 << 20, field, resolver).read_bytes()


def _check_size(size: int, max_bytes: int, field: str) -> None:
    if size > max_bytes:
        raise unprocessable(
            "input_too_large", f"{field}: {size} bytes is over the limit of {max_bytes} bytes"
        )


def _fetch_s3(url: str, dest: Path, settings: Settings, max_bytes: int, field: str) -> Path:
    try:
        fs = fsspec.filesystem("s3", **s3_options(settings.store))
        path = url.split("://", 1)[1]
        _check_size(int(fs.size(path)), max_bytes, field)
        fs.get_file(path, str(dest))
    except ApiError:
        raise
    except FileNotFoundError:
        raise unprocessable("input_not_found", f"{field}: no such object: {url}") from None
    except Exception as exc:  # botocore/aiohttp raise many unrelated types
        raise unprocessable("input_unreachable", f"{field}: cannot read {url}: {exc}") from None
    return dest


def _fetch_http(
    url: str, dest: Path, settings: Settings, max_bytes: int, field: str, resolver: Resolver
) -> Path:
    current = url
    policy = input_policy(settings)
    with egress_client(policy, timeout=settings.inputs.timeout_s, resolver=resolver) as client:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise bad_request("invalid_url", f"{field}: redirect to a non-http URL")
            if parts.scheme not in settings.inputs.allowed_schemes:
                raise bad_request("unsupported_scheme", f"{field}: scheme {parts.scheme!r}")
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise unprocessable(
                            "input_unreachable",
                            f"{field}: GET {current} answered HTTP {response.status_code}",
                        )
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit():
                        _check_size(int(declared), max_bytes, field)
                    received = 0
                    with open(dest, "wb") as handle:
                        for chunk in response.iter_bytes(CHUNK):
                            received += len(chunk)
                            _check_size(received, max_bytes, field)
                            handle.write(chunk)
                    return dest
            except EgressRefused as exc:  # this hop's host (checked as it was connected)
                raise bad_request("address_not_allowed", f"{field}: {exc}") from None
            except httpx.InvalidURL as exc:  # a redirect's Location that is no URL
                raise bad_request("invalid_url", f"{field}: {exc}") from None
            except httpx.HTTPError as exc:
                raise unprocessable(
                    "input_unreachable", f"{field}: cannot download {current}: {exc}"
                ) from None
    raise unprocessable("input_unreachable", f"{field}: more than {MAX_REDIRECTS} redirects")
