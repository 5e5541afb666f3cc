"""Every outgoing HTTP request to a URL someone else chose (input downloads, callbacks) goes
through here, so a server-side request forgery cannot reach loopback or the private network.

The rule: a host is resolved **once**; when any of its addresses is loopback, private,
link-local, reserved or multicast the request is refused (:class:`EgressRefused`), unless the
policy allows private addresses or names the host as trusted. Otherwise the connection is made
to the checked address itself, so a name that answers a public address to the check and
127.0.0.1 to the connection (DNS rebinding) cannot slip through. The ``Host`` header stays the
URL's, and for ``https`` the TLS server name (SNI) and the certificate check use the URL's host
name, not the address. Because the check lives in the transport, it applies to every request
the client sends, each redirect hop included.

The resolver is a parameter (``Resolver``: host, port → addresses) so tests can hand in one
that rebinds without patching :mod:`socket`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

Resolver = Callable[[str, int], Sequence[str]]
"""Resolves ``(host, port)`` to IP address strings, in the order to try them."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for ``host`` (``getaddrinfo``), duplicates removed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError):  # a label too long for IDNA, a NUL: no such name
        raise socket.gaierror(f"cannot look up host name {host!r}") from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


class EgressRefused(httpx.TransportError):
    """The request's host is (or resolves to) an address the policy does not allow."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"host {host!r} resolves to a non-public address ({address})")
        self.host = host
        self.address = address


class EgressUnresolved(httpx.ConnectError):
    """The request's host name does not resolve (a network failure: worth a later retry)."""


@dataclass(frozen=True)
class EgressPolicy:
    """Which non-public destinations one kind of request may reach.

    ``trusted_hosts`` entries are a host name or address (``orchestrator.internal``,
    ``127.0.0.1``) or a host and port (``127.0.0.1:8100``), compared case-insensitively with
    the URL's host as written (before resolving).
    """

    allow_private: bool = False
    trusted_hosts: frozenset[str] = field(default_factory=frozenset)

    def trusts(self, host: str, port: int) -> bool:
        name = host.lower().strip("[]")
        return (
            self.allow_private
            or name in self.trusted_hosts
            or f"{name}:{port}" in self.trusted_hosts
            or f"[{name}]:{port}" in self.trusted_hosts
        )

    @staticmethod
    def of(allow_private: bool, trusted: Sequence[str]) -> EgressPolicy:
        return EgressPolicy(allow_private, frozenset(t.strip().lower() for t in trusted))


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address; IPv4-mapped IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve_checked(
    host: str, port: int, policy: EgressPolicy, resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The addresses to connect to for ``host``: resolved once, all of them checked.

    Raises :class:`EgressRefused` when one is not public and the host is not trusted,
    :class:`EgressUnresolved` when the name does not resolve.
    """
    name = host.strip("[]")
    try:
        literal: IPAddress | None = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        answers: Sequence[str] = [str(literal)]
    else:
        try:
            answers = resolver(name, port)
        except (OSError, ValueError) as exc:  # UnicodeError is a ValueError
            raise EgressUnresolved(f"cannot resolve host {host!r}: {exc}") from None
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
    if not addresses:
        raise EgressUnresolved(f"cannot resolve host {host!r}: no addresses")
    if not policy.trusts(name, port):
        for address in addresses:
            if not is_public(address):
                raise EgressRefused(host, str(address))
    return addresses


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that checks each request's host with :func:`resolve_checked` and
    connects to the first checked address, keeping the ``Host`` header, SNI and certificate
    check on the URL's host name.

    Connections are pooled per (host name, address), never shared between two names that
    happen to share an address (a pooled TLS connection belongs to the name it was verified
    for).
    """

    def __init__(
        self,
        policy: EgressPolicy,
        resolver: Resolver = system_resolver,
        **transport_options: Any,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self._options = transport_options
        self._pools: dict[tuple[str, str], httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def _pool(self, host: str, address: str) -> httpx.HTTPTransport:
        with self._lock:
            pool = self._pools.get((host, address))
            if pool is None:
                pool = httpx.HTTPTransport(**self._options)
                self._pools[(host, address)] = pool
            return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"scheme {url.scheme!r} is not http(s)", request=request
            )
        host = url.raw_host.decode("ascii")  # IDNA-encoded: what DNS and SNI expect
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            address = str(resolve_checked(host, port, self.policy, self.resolver)[0])
        except httpx.TransportError as exc:
            exc.request = request
            raise
        # A new request, not the caller's changed in place: httpx builds a redirect's next
        # URL from the caller's request, which must keep the host name.
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=address),
            headers=request.headers,  # Host: the URL's name (httpx set it from the URL)
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return self._pool(host, address).handle_request(pinned)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def egress_client(
    policy: EgressPolicy,
    *,
    timeout: float,
    resolver: Resolver = system_resolver,
    follow_redirects: bool = False,
    max_redirects: int = 3,
) -> httpx.Client:
    """An :class:`httpx.Client` whose every request (each redirect hop too) goes through a
    :class:`PinnedTransport`. Proxy variables from the environment are ignored: a proxy would
    make the connection, and the pinned address would mean nothing."""
    return httpx.Client(
        transport=PinnedTransport(policy, resolver),
        timeout=httpx.Timeout(timeout),
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )
