"""Job-finished callbacks (talos.web.callbacks): where they may go, and their signatures;
in-process against a real HTTP server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from talos.config import Settings
from talos.web.callbacks import (
    KEY_PARAM,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_callback_url,
    job_key,
    redact,
    send_callback,
    signed_headers,
    verify_signature,
    with_key,
)
from talos.web.errors import ApiError


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps each POST's path, headers and raw body."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.posts: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.posts.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/callbacks/job-completed"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def fast(**callbacks: object) -> Settings:
    return Settings(callbacks={"attempts": 2, "backoff_s": 0.01, **callbacks})


BODY = {"job_id": "j1", "module_name": "AXIS", "status": "completed", "output_url": "s3://b/l"}


def test_a_loopback_callback_url_is_refused_and_never_posted(receiver: Receiver) -> None:
    settings = fast()
    with pytest.raises(ApiError) as info:
        check_callback_url(receiver.url, settings)
    assert (info.value.status, info.value.code) == (422, "callback_not_allowed")
    for url in ("http://localhost:8100/x", "http://10.0.0.1/x", "http://[::1]:80/x",
                "http://169.254.169.254/latest"):  # fmt: skip
        with pytest.raises(ApiError):
            check_callback_url(url, settings)
    outcome = send_callback(receiver.url, BODY, settings, source="axis")  # send time, too
    assert outcome.status == "failed" and outcome.attempts == 1
    assert "non-public address" in (outcome.error or "")
    assert receiver.posts == []


def test_trusted_and_own_orchestrator_hosts_are_allowed(receiver: Receiver) -> None:
    trusted = fast(trusted_hosts=[f"127.0.0.1:{receiver.port}"])
    check_callback_url(receiver.url, trusted)
    with pytest.raises(ApiError):
        check_callback_url(f"http://127.0.0.1:{receiver.port + 1}/x", trusted)  # other port
    own = fast(orchestrator_url=receiver.url)  # the Orchestrator's own address
    check_callback_url(f"{receiver.url}?{KEY_PARAM}=abc", own)
    default = Settings(orchestrator={"host": "127.0.0.1", "port": 8100})
    check_callback_url("http://127.0.0.1:8100/callbacks/job-completed", default)
    with pytest.raises(ApiError) as info:
        check_callback_url("ftp://example.com/x", default)
    assert info.value.code == "invalid_url"

    def unresolvable(host: str, port: int) -> Sequence[str]:
        raise OSError("no such name")

    check_callback_url("http://not-yet.example/x", default, resolver=unresolvable)


def test_callbacks_are_signed_with_the_job_key_which_is_not_sent(receiver: Receiver) -> None:
    key = job_key("orchestrator-secret", "j1")
    settings = fast(trusted_hosts=["127.0.0.1"])
    url = with_key(receiver.url, key)
    assert key not in (redact(url) or "") and redact(url).endswith(f"{KEY_PARAM}=***")
    outcome = send_callback(url, BODY, settings, source="axis")
    assert outcome.status == "delivered"
    (post,) = receiver.posts
    assert post["path"] == "/callbacks/job-completed"  # the key stays with the module
    headers = {k.lower(): v for k, v in post["headers"].items()}
    stamp, sig = headers[TIMESTAMP_HEADER.lower()], headers[SIGNATURE_HEADER.lower()]
    assert abs(int(stamp) - time.time()) < 10
    assert verify_signature("orchestrator-secret", "j1", post["raw"], stamp, sig, 300) is None
    assert verify_signature("other-secret", "j1", post["raw"], stamp, sig, 300) == "bad signature"


def test_fallback_orchestrator_url_is_signed_when_the_secret_is_configured(
    receiver: Receiver,
) -> None:
    settings = Settings(
        callbacks={"orchestrator_url": receiver.url, "attempts": 1},
        orchestrator={"callback_token": "shared"},
    )
    assert send_callback(receiver.url, BODY, settings, source="prism").status == "delivered"
    headers = {k.lower(): v for k, v in receiver.posts[0]["headers"].items()}
    assert verify_signature(
        "shared", "j1", receiver.posts[0]["raw"], headers["x-talos-timestamp"],
        headers["x-talos-signature"], 300,
    ) is None  # fmt: skip


def test_verify_signature_refuses_forgeries_and_replays() -> None:
    raw = b'{"job_id": "j1", "status": "completed"}'
    good = signed_headers(job_key("s", "j1"), raw, now=1000)
    stamp, sig = good[TIMESTAMP_HEADER], good[SIGNATURE_HEADER]
    assert verify_signature("s", "j1", raw, stamp, sig, 300, now=1100) is None
    assert verify_signature("s", "j1", raw, None, None, 300, now=1100) == "unsigned"
    assert verify_signature("s", "j1", raw, stamp, "sha256=00", 300, now=1100) == "bad signature"
    assert verify_signature("s", "j2", raw, stamp, sig, 300, now=1100) == "bad signature"
    assert verify_signature("s", "j1", raw + b" ", stamp, sig, 300, now=1100) == "bad signature"
    old = verify_signature("s", "j1", raw, stamp, sig, 300, now=1301)
    assert old == "timestamp outside the replay window"
    assert verify_signature("s", "j1", raw, "-5", sig, 300, now=1100) == "bad timestamp"
    assert verify_signature("s", "j1", raw, stamp, "sha256=\u00e9", 300, now=1100) == (
        "bad signature"
    )  # non-ASCII: refused, not a TypeError
