"""Outgoing requests to chosen URLs (talos.web.egress): resolved once, checked, and connected to
the checked address; in-process against real HTTP(S) servers on loopback. The resolver is
handed in, so a test can make a name rebind without patching :mod:`socket`."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from talos.config import Settings
from talos.web.egress import (
    EgressPolicy,
    EgressRefused,
    PinnedTransport,
    egress_client,
    resolve_checked,
)
from talos.web.errors import ApiError
from talos.web.inputs import check_url, fetch

PAYLOAD = b"loopback secret"


class Recorder:
    """A real HTTP(S) server on 127.0.0.1 that records every request it gets."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append({"path": self.path, "host": self.headers.get("host", "")})
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("location", self.path.split("?to=", 1)[1])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"host": self.headers.get("host")}).encode()
                body = PAYLOAD if self.path == "/secret" else body
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def loopback() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


class Rebinding:
    """A resolver that answers ``first`` to the first lookup of a name and ``then`` to every
    later one (the DNS rebinding attack), and counts its lookups."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then = first, then
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return [self.first if len(self.lookups) == 1 else self.then]


def fixed(answers: dict[str, list[str]]):
    def resolve(host: str, port: int) -> Sequence[str]:
        return answers[host]

    return resolve


def settings(tmp_path: Path, **inputs: object) -> Settings:
    return Settings(inputs={"allowed_roots": [str(tmp_path)], "timeout_s": 1.0, **inputs})


def test_a_rebinding_name_is_checked_and_connected_once(tmp_path: Path, loopback) -> None:
    """The download resolves the name once and connects to that answer: a second answer of
    127.0.0.1 is never asked for, so the loopback server gets nothing."""
    rebinding = Rebinding("8.8.8.8", "127.0.0.1")  # public first, loopback afterwards
    url = f"http://rebind.example:{loopback.port}/secret"
    s = settings(tmp_path)
    with pytest.raises(ApiError) as info:  # 8.8.8.8 at that port answers nothing here
        fetch(check_url(url, s, "v", fixed({"rebind.example": ["8.8.8.8"]})), tmp_path / "a",
              s, 10**6, "v", resolver=rebinding)  # fmt: skip
    assert info.value.code == "input_unreachable"
    assert rebinding.lookups == ["rebind.example"]  # resolved once
    assert loopback.requests == []


def test_a_name_that_rebinds_between_check_and_download_is_refused(
    tmp_path: Path, loopback
) -> None:
    """The submit-time check sees a public answer; the download's own (single) lookup sees
    127.0.0.1 and refuses it instead of connecting."""
    rebinding = Rebinding("8.8.8.8", "127.0.0.1")
    url = f"http://rebind.example:{loopback.port}/secret"
    s = settings(tmp_path)
    checked = check_url(url, s, "v", rebinding)  # public: accepted
    with pytest.raises(ApiError) as info:
        fetch(checked, tmp_path / "b", s, 10**6, "v", resolver=rebinding)
    assert (info.value.status, info.value.code) == (400, "address_not_allowed")
    assert "127.0.0.1" in info.value.message
    assert loopback.requests == [] and not (tmp_path / "b").exists()


def test_pinned_connection_keeps_the_host_header(tmp_path: Path, loopback) -> None:
    policy = EgressPolicy.of(False, ["media.internal"])
    resolver = fixed({"media.internal": ["127.0.0.1"]})
    with egress_client(policy, timeout=5, resolver=resolver) as client:
        answer = client.get(f"http://media.internal:{loopback.port}/echo")
    assert answer.json() == {"host": f"media.internal:{loopback.port}"}
    assert str(answer.request.url).startswith("http://media.internal:")
    s = settings(tmp_path, trusted_hosts=[f"media.internal:{loopback.port}"])
    path = fetch(check_url(f"http://media.internal:{loopback.port}/secret", s, "v", resolver),
                 tmp_path / "c", s, 10**6, "v", resolver=resolver)  # fmt: skip
    assert path.read_bytes() == PAYLOAD


def test_tls_to_a_pinned_address_checks_the_certificate_of_the_name() -> None:
    """SNI and the certificate check use the URL's host name although the socket goes to
    the pinned address; a certificate for another name fails."""
    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("media.internal").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    server = Recorder(tls=server_ctx)
    try:
        policy = EgressPolicy.of(False, ["media.internal", "other.internal"])
        resolver = fixed({"media.internal": ["127.0.0.1"], "other.internal": ["127.0.0.1"]})
        transport = PinnedTransport(policy, resolver, verify=client_ctx)
        with httpx.Client(transport=transport, timeout=5) as client:
            good = client.get(f"https://media.internal:{server.port}/echo")
            assert good.json() == {"host": f"media.internal:{server.port}"}
            with pytest.raises(httpx.ConnectError, match="certificate|hostname"):
                client.get(f"https://other.internal:{server.port}/echo")
    finally:
        server.close()


def test_a_redirect_to_loopback_is_refused_at_the_hop(tmp_path: Path, loopback) -> None:
    target = Recorder()
    try:
        policy = EgressPolicy.of(False, [f"redirector.internal:{loopback.port}"])
        resolver = fixed({"redirector.internal": ["127.0.0.1"], "localhost": ["127.0.0.1"]})
        base = f"http://redirector.internal:{loopback.port}"
        for hop in (f"http://127.0.0.1:{target.port}/secret",
                    f"http://localhost:{target.port}/secret"):  # fmt: skip
            client = egress_client(policy, timeout=5, resolver=resolver, follow_redirects=True)
            with client, pytest.raises(EgressRefused):
                client.get(f"{base}/redirect?to={hop}")
        # the same through the input download, which follows redirects by hand
        s = settings(tmp_path, trusted_hosts=[f"redirector.internal:{loopback.port}"])
        url = f"{base}/redirect?to=http://127.0.0.1:{target.port}/secret"
        with pytest.raises(ApiError) as info:
            fetch(check_url(url, s, "v", resolver), tmp_path / "d", s, 10**6, "v", resolver)
        assert (info.value.status, info.value.code) == (400, "address_not_allowed")
        assert len(loopback.requests) == 3 and target.requests == []
    finally:
        target.close()


@pytest.mark.parametrize(
    ("host", "answers"),
    [
        ("mixed.example", ["8.8.8.8", "10.0.0.5"]),  # one private answer is enough to refuse
        ("mapped.example", ["::ffff:127.0.0.1"]),
        ("metadata.example", ["169.254.169.254"]),
        ("v6.example", ["fe80::1%eth0"]),
        ("169.254.169.254", []),
        ("[::1]", []),
        ("0.0.0.0", []),
    ],
)
def test_non_public_answers_are_refused(host: str, answers: list[str]) -> None:
    with pytest.raises(EgressRefused):
        resolve_checked(host, 80, EgressPolicy(), fixed({host: answers}))


def test_trust_is_per_host_or_host_and_port() -> None:
    loop = fixed({"orch.internal": ["127.0.0.1"]})
    policy = EgressPolicy.of(False, ["orch.internal:8100", "10.1.2.3"])
    assert resolve_checked("orch.internal", 8100, policy, loop)
    with pytest.raises(EgressRefused):
        resolve_checked("orch.internal", 8101, policy, loop)
    assert resolve_checked("10.1.2.3", 443, policy)
    assert resolve_checked("orch.internal", 8100, EgressPolicy.of(False, ["ORCH.Internal"]), loop)
    assert resolve_checked("orch.internal", 1, EgressPolicy.of(True, []), loop)  # tests only


def test_system_dns_rebinding_never_reaches_loopback(
    tmp_path: Path, loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default resolver path, as the attack runs in production: the attacker's DNS answers
    a public address (TTL 0) to the first two lookups, the submit check and the download's
    check, and 127.0.0.1 afterwards. This is the reproduction of the finding: the code before
    the fix looked the name up a third time to connect, and downloaded from loopback. The
    tests above hand in the resolver instead of patching :mod:`socket`."""
    import socket

    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, port: object, *args: object, **kwargs: object) -> object:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        answer = "8.8.8.8" if len(lookups) <= 2 else "127.0.0.1"
        return real(answer, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    s = settings(tmp_path)
    url = f"http://rebind.example:{loopback.port}/secret"
    with pytest.raises(ApiError) as info:
        fetch(check_url(url, s, "v"), tmp_path / "e", s, 10**6, "v")
    assert info.value.code == "input_unreachable"  # 8.8.8.8 at that port: nothing here
    assert loopback.requests == [] and not (tmp_path / "e").exists()
    assert lookups == ["rebind.example"] * 2  # no third lookup to connect


@pytest.mark.parametrize("host", ["a\x00b.example", "a" * 300 + ".example", "exa mple.example"])
def test_unusable_host_names_are_unresolved_not_a_crash(host: str) -> None:
    """The system resolver's odd failures (NUL: ValueError, a 300-byte label: UnicodeError)
    are one kind of error: the name does not resolve."""
    from talos.web.egress import EgressUnresolved

    with pytest.raises(EgressUnresolved):
        resolve_checked(host, 80, EgressPolicy())
