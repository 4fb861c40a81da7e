"""Fetch a source page over http(s) without letting the URL reach inside our network.

The host name is resolved once, every address is checked, and the connection goes to the
checked address (so DNS cannot answer differently the second time). Redirects are followed by
hand and checked the same way. Private, loopback, link-local and other non-global addresses are
refused unless `allow_private` is set (tests serve pages from 127.0.0.1), and so are IPv6
addresses that carry such an IPv4 address inside them.

`timeout` is one deadline for the whole fetch (connecting, every redirect, headers and body), so
a server that drips a byte at a time cannot hold the import open. Resolving the name is left to
the resolver's own timeouts.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, urljoin, urlsplit

MAX_REDIRECTS = 5
_URL_SAFE = "/%:@!$&'()*+,;="
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class FetchError(Exception):
    """A URL that cannot be fetched; the message is one line."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"cannot resolve host {host!r}: {error}") from None
    return [info[4][0] for info in infos]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-compatible, 6to4 or NAT64 address."""
    if ip in _IPV4_COMPATIBLE or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


def is_public(address: str) -> bool:
    """Whether an address as getaddrinfo gives it may be fetched from on a stranger's behalf."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return is_public(str(ip.ipv4_mapped))
        # Deprecated site-local and NAT64 local-use ranges count as global to ipaddress.
        if ip.is_site_local or ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool = False) -> Target:
    """Validate a URL and pick the address to connect to; raise FetchError if refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise FetchError(f"invalid URL {url!r}: {error}") from None
    if parts.scheme not in {"http", "https"}:
        raise FetchError(f"only http and https URLs are imported, not {parts.scheme or 'none'}:")
    if parts.username is not None or parts.password is not None:
        raise FetchError("URLs with credentials are refused")
    host = parts.hostname
    if not host:
        raise FetchError(f"URL has no host: {url!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        if not allow_private and not is_public(address):
            raise FetchError(
                f"{host} resolves to {address}, a private, loopback or link-local address "
                "(use --allow-private to import from it)"
            )
    # http.client writes the request line as ASCII: percent-encode the rest (a pasted URL often
    # holds a Chinese file name), leaving escapes and reserved characters as they are.
    path = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        path = f"{path}?{quote(parts.query, safe=_URL_SAFE + '?')}"
    return Target(parts.scheme, host, port, path, addresses[0])


class _Deadline:
    """The moment by which the whole fetch must be done."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def left(self) -> float:
        left = self._at - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"timed out after {self.seconds:g} s")
        return left


class _DeadlineReader(io.RawIOBase):
    """The response's socket file, each read given only the time left before the deadline.

    A socket timeout alone bounds each read, not their sum: a server sending a byte a second
    would never time out.
    """

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: _Deadline) -> None:
        self._raw = raw
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int | None:  # type: ignore[override]
        self._sock.settimeout(self._deadline.left())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(sock, *args, **kwargs)
        # Nothing is buffered yet: swap the socket file for one that watches the deadline.
        self.fp = io.BufferedReader(_DeadlineReader(self.fp.detach(), sock, deadline))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, deadline: _Deadline) -> None:
        super().__init__(target.host, target.port)
        self._address = target.address
        self._deadline = deadline
        self.response_class = partial(_DeadlineResponse, deadline=deadline)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self._deadline.left())


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        # CPython bounds a whole handshake by the socket timeout.
        self.sock.settimeout(self._deadline.left())
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def fetch_url(
    url: str, *, timeout: float = 15.0, max_bytes: int = 5_000_000, allow_private: bool = False
) -> bytes:
    """The body of `url`, at most `max_bytes`, following up to five checked redirects.

    `timeout` bounds the whole fetch, redirects included.
    """
    deadline = _Deadline(timeout)
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url, allow_private=allow_private)
        connection_class = (
            _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        )
        connection = connection_class(target, deadline)
        try:
            connection.request(
                "GET", target.path, headers={"User-Agent": "lesson-forum-import/1", "Accept": "*/*"}
            )
            response = connection.getresponse()
            if response.status in {301, 302, 303, 307, 308}:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{url}: redirect without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise FetchError(f"{url}: HTTP {response.status} {response.reason}")
            declared = response.getheader("Content-Length")
            # isascii: isdigit() accepts "²"; the length: int() refuses over 4,300 digits.
            too_long = declared and (len(declared) > 18 or int(declared) > max_bytes)
            if declared and declared.isascii() and declared.isdigit() and too_long:
                raise FetchError(f"{url}: {declared} bytes is over the {max_bytes}-byte limit")
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"{url}: more than the {max_bytes}-byte limit")
            return body
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(f"{url}: {error or type(error).__name__}") from None
        finally:
            connection.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
