"""Fetch a source page over http(s) without letting the URL reach inside our network.

The host name is resolved once, every address is checked, and the connection goes to the
checked address (so DNS cannot answer differently the second time). Redirects are followed by
hand and checked the same way. Private, loopback, link-local and other non-global addresses are
refused unless `allow_private` is set (tests serve pages from 127.0.0.1).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

MAX_REDIRECTS = 5
_URL_SAFE = "/%:@!$&'()*+,;="


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
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global and not allow_private:
            raise FetchError(
                f"{host} resolves to {ip}, a private, loopback or link-local address "
                "(use --allow-private to import from it)"
            )
    # http.client writes the request line as ASCII: percent-encode the rest (a pasted URL often
    # holds a Chinese file name), leaving escapes and reserved characters as they are.
    path = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        path = f"{path}?{quote(parts.query, safe=_URL_SAFE + '?')}"
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch_url(
    url: str, *, timeout: float = 15.0, max_bytes: int = 5_000_000, allow_private: bool = False
) -> bytes:
    """The body of `url`, at most `max_bytes`, following up to five checked redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url, allow_private=allow_private)
        connection_class = (
            _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        )
        connection = connection_class(target, timeout)
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
            if declared and declared.isdigit() and int(declared) > max_bytes:
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
