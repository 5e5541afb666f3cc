"""Safe input fetching, in-process against real local files and a real loopback HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from talos.config import Settings
from talos.web.errors import ApiError
from talos.web.inputs import check_url, fetch

PAYLOAD = b"x" * 5000


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/clip.mp4":
                self.send_response(200)
                self.send_header("content-length", str(len(PAYLOAD)))
                self.end_headers()
                self.wfile.write(PAYLOAD)
            elif self.path == "/chunked":  # no content-length: the limit is enforced on read
                self.send_response(200)
                self.end_headers()
                self.wfile.write(PAYLOAD)
            elif self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("location", self.path.split("?to=", 1)[1])
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def settings(tmp_path: Path, **inputs) -> Settings:
    return Settings(inputs={"allowed_roots": [str(tmp_path / "in")], **inputs})


def error_of(call) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    return info.value


def test_http_download_with_private_addresses_allowed(tmp_path: Path, web: str) -> None:
    s = settings(tmp_path, allow_private_addresses=True)
    path = fetch(check_url(f"{web}/clip.mp4", s, "v"), tmp_path / "a.bin", s, 10_000, "v")
    assert path.read_bytes() == PAYLOAD
    redirected = check_url(f"{web}/redirect?to=/clip.mp4", s, "v")
    assert fetch(redirected, tmp_path / "b.bin", s, 10_000, "v").read_bytes() == PAYLOAD


def test_http_limits_and_failures(tmp_path: Path, web: str) -> None:
    s = settings(tmp_path, allow_private_addresses=True)
    for path in ("/clip.mp4", "/chunked"):
        error = error_of(
            lambda p=path: fetch(check_url(f"{web}{p}", s, "v"), tmp_path / "c", s, 1000, "v")
        )
        assert (error.status, error.code) == (422, "input_too_large")
    error = error_of(
        lambda: fetch(check_url(f"{web}/missing", s, "v"), tmp_path / "d", s, 10**6, "v")
    )
    assert (error.status, error.code) == (422, "input_unreachable") and "404" in error.message
    dead = "http://127.0.0.1:9/x.mp4"
    error = error_of(lambda: fetch(check_url(dead, s, "v"), tmp_path / "e", s, 10**6, "v"))
    assert (error.status, error.code) == (422, "input_unreachable")


def test_private_addresses_refused_by_default_even_after_a_redirect(tmp_path, web) -> None:
    s = settings(tmp_path)
    for url in (
        f"{web}/clip.mp4",
        "http://localhost/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
    ):
        error = error_of(lambda u=url: check_url(u, s, "video_source_url"))
        assert (error.status, error.code) == (400, "address_not_allowed"), url
    # a public-looking first hop that redirects to loopback is refused at the hop
    loose = settings(tmp_path, allow_private_addresses=True)
    checked = check_url(f"{web}/redirect?to=http://127.0.0.1:9/x", loose, "v")
    strict = settings(tmp_path)
    error = error_of(lambda: fetch(checked, tmp_path / "f", strict, 10**6, "v"))
    assert error.code == "address_not_allowed"


def test_file_urls_stay_inside_the_allowed_roots(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.mp4").write_bytes(b"v")
    (tmp_path / "secret.mp4").write_bytes(b"s")
    (root / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    (root / "dirlink").symlink_to(tmp_path)
    s = settings(tmp_path)
    assert check_url(f"file://{root}/sub/ok.mp4", s, "v").path == root / "sub" / "ok.mp4"
    for url in (
        f"file://{root}/../secret.mp4",
        f"file://{root}/sub/%2E%2E/../secret.mp4",
        f"file://{root}/link.mp4",
        f"file://{root}/dirlink/secret.mp4",
        f"file://{tmp_path}/secret.mp4",
        "file://otherhost/etc/passwd",
        "file:relative.mp4",
    ):
        error = error_of(lambda u=url: check_url(u, s, "v"))
        assert error.status == 400, url
    disabled = Settings(inputs={"allowed_schemes": ["s3"], "allowed_roots": [str(root)]})
    error = error_of(lambda: check_url(f"file://{root}/sub/ok.mp4", disabled, "v"))
    assert error.code == "unsupported_scheme"


def test_allowed_roots_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    from talos.config import load_settings

    monkeypatch.setenv("AXIS_INPUTS__ALLOWED_ROOTS", json.dumps(["/data", str(tmp_path)]))
    assert load_settings().inputs.allowed_roots == [Path("/data"), tmp_path]


def test_paths_the_os_refuses_are_400_not_a_crash(tmp_path: Path) -> None:
    """A 300-byte file name (ENAMETOOLONG) raised OSError out of the input check: a 500.
    Now every path the OS will not look at is a 400 ``invalid_path``; a name of legal length
    that does not exist stays the 422 of a missing input."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "loop").symlink_to(root / "loop")  # ELOOP: a symlink to itself
    s = settings(tmp_path)
    for url in (f"file://{root}/{'a' * 300}.mp4", f"file://{root}/loop/clip.mp4"):
        error = error_of(lambda u=url: check_url(u, s, "v"))
        assert (error.status, error.code) == (400, "invalid_path"), url
        assert len(error.message) < 400, error.message  # the name is not echoed whole
    missing = check_url(f"file://{root}/{'a' * 200}.mp4", s, "v")
    error = error_of(lambda: fetch(missing, tmp_path / "f", s, 10**6, "v"))
    assert (error.status, error.code) == (422, "input_not_found")


def test_a_long_url_is_not_echoed_whole(tmp_path: Path) -> None:
    error = error_of(lambda: check_url("x" * 100_000, settings(tmp_path), "v"))
    assert error.code == "invalid_url" and len(error.message) < 400, error.message
