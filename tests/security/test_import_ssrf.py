"""URL import cannot be turned against our own network (SSRF), proven by a fake network.

Every test here runs inside `network`: name resolution is faked (no DNS leaves the machine) and
every outgoing connection is recorded and refused unless the test routed it. A refused URL must
fail before any socket connects, so each test also asserts that nothing tried to connect.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from forum.importing.fetch import FetchError, fetch_url
from lessons.models import Lesson
from tests.forum.import_helpers import SEED, SEED_COURSE, row_counts, run_import

PUBLIC_ADDRESS = "93.184.215.14"
SEED_PATH = f"/{quote(SEED_COURSE)}/{quote(SEED.name)}"

_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection
_real_connect = socket.socket.connect


class UnexpectedConnection(Exception):
    """Not an OSError, so that the importer cannot report it as an ordinary network failure."""


@dataclass
class PageServer:
    """A local HTTP server; `routes` maps a path to (status, headers, body)."""

    port: int
    routes: dict[str, tuple[int, dict[str, str], bytes]]
    requests: list[str]

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = (302, {"Location": location}, b"")


@dataclass
class Network:
    """Names resolve through `dns`; connections to `public` are routed to the local server."""

    server: PageServer
    dns: dict[str, list[str]] = field(default_factory=dict)
    public: set[tuple[str, int]] = field(default_factory=set)
    local_allowed: bool = False
    attempts: list[tuple[str, int]] = field(default_factory=list)
    _permitted: threading.local = field(default_factory=threading.local)

    @property
    def local(self) -> tuple[str, int]:
        return ("127.0.0.1", self.server.port)

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, str) and host in self.dns:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port, 0, 0) if ":" in address else (address, port),
                )
                for address in self.dns[host]
            ]
        # Literal addresses (however oddly written) are parsed by the C library as in
        # production; any other name fails without asking a DNS server. /etc/hosts knows localhost.
        if host != "localhost":
            flags |= socket.AI_NUMERICHOST
        return _real_getaddrinfo(host, port, family, type, proto, flags)

    def create_connection(self, address, *args, **kwargs):
        host, port = address[0], address[1]
        if (host, port) in self.public or (self.local_allowed and (host, port) == self.local):
            self._permitted.address = self.local
            try:
                return _real_create_connection(self.local, *args, **kwargs)
            finally:
                self._permitted.address = None
        self.attempts.append((host, port))
        raise UnexpectedConnection(f"connection to {host}:{port}")

    def connect(self, sock: socket.socket, address) -> None:
        if tuple(address[:2]) != getattr(self._permitted, "address", None):
            self.attempts.append(tuple(address[:2]))
            raise UnexpectedConnection(f"socket connect to {address}")
        _real_connect(sock, address)


@pytest.fixture
def server() -> Iterator[PageServer]:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {
        SEED_PATH: (200, {}, SEED.read_bytes()),
        "/page.md": (200, {}, b"# A page\n"),
    }
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield PageServer(httpd.server_address[1], routes, requests)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def network(server: PageServer, monkeypatch: pytest.MonkeyPatch) -> Network:
    """public.example and lessons.example are public hosts served by the local server."""
    net = Network(server)
    net.dns.update({"public.example": [PUBLIC_ADDRESS], "lessons.example": [PUBLIC_ADDRESS]})
    net.public.update({(PUBLIC_ADDRESS, 80)})
    monkeypatch.setattr(socket, "getaddrinfo", net.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", net.create_connection)

    def connect(sock: socket.socket, address) -> None:  # a function, so that it binds to sock
        net.connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    return net


# Loopback, private, link-local, shared, unspecified, multicast, and the same written oddly:
# decimal, hex, octal, short forms, full-width digits, IPv4 inside IPv6 (mapped, compatible,
# 6to4, NAT64).
INTERNAL_URLS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://１２７.０.０.１/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[::1]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "https://192.168.1.1/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://localhost/",
    "http://localhost:8000/01-一.md",
]

OTHER_SCHEMES = [
    "file:///etc/passwd",
    "ftp://public.example/01-一.md",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stat",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "//public.example/01-一.md",
]

WITH_CREDENTIALS = [
    "http://user:secret@public.example/01-一.md",
    "https://user@public.example/01-一.md",
    "http://:@public.example/01-一.md",
    "http://public.example\\@127.0.0.1/01-一.md",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_address_is_refused_before_any_connection(network: Network, url: str) -> None:
    with pytest.raises(FetchError, match="private, loopback or link-local"):
        fetch_url(url)
    assert network.attempts == []


@pytest.mark.parametrize("url", OTHER_SCHEMES)
def test_scheme_other_than_http_is_refused_before_any_connection(
    network: Network, url: str
) -> None:
    with pytest.raises(FetchError, match="only http and https URLs are imported"):
        fetch_url(url)
    assert network.attempts == []


@pytest.mark.parametrize("url", WITH_CREDENTIALS)
def test_url_with_credentials_is_refused_before_any_connection(network: Network, url: str) -> None:
    with pytest.raises(FetchError, match="URLs with credentials are refused"):
        fetch_url(url)
    assert network.attempts == []


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.1.2.3"],
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:10.0.0.1"],
        ["fd12:3456::1"],
        [PUBLIC_ADDRESS, "192.168.0.10"],
        ["2606:4700::1111", "fe80::1"],
    ],
)
def test_name_resolving_to_an_internal_address_is_refused(
    network: Network, addresses: list[str]
) -> None:
    network.dns["internal.example"] = addresses
    with pytest.raises(FetchError, match=r"internal\.example resolves to .*private, loopback"):
        fetch_url("http://internal.example/01-一.md")
    assert network.attempts == []


@pytest.mark.parametrize(
    "location",
    [
        "http://127.1/",
        "http://[::ffff:127.0.0.1]:8080/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example/secret",
        "//127.0.0.1/relative-to-scheme",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "http://user:secret@public.example/page.md",
    ],
)
def test_redirect_to_a_refused_url_is_not_followed(
    network: Network, server: PageServer, location: str
) -> None:
    network.dns["internal.example"] = ["10.0.0.7"]
    server.redirect("/start", location)
    with pytest.raises(FetchError, match=r"private, loopback|only http and https|credentials"):
        fetch_url("http://public.example/start")
    assert server.requests == ["/start"]
    assert network.attempts == []


def test_redirect_chain_is_checked_at_every_hop(network: Network, server: PageServer) -> None:
    server.redirect("/one", "http://lessons.example/two")
    server.redirect("/two", "/three")
    server.redirect("/three", "http://0x7f000001/four")
    with pytest.raises(FetchError, match=r"0x7f000001 resolves to 127\.0\.0\.1"):
        fetch_url("http://public.example/one")
    assert server.requests == ["/one", "/two", "/three"]
    assert network.attempts == []


def test_connection_goes_to_the_checked_address_when_dns_changes_its_answer(
    network: Network, server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a second lookup would say 127.0.0.1, but there is no second lookup."""
    answers = iter([[PUBLIC_ADDRESS]])
    resolve = network.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            network.dns[host] = next(answers, ["127.0.0.1"])
        return resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert fetch_url("http://rebind.example/page.md") == b"# A page\n"
    assert network.dns["rebind.example"] == [PUBLIC_ADDRESS]  # asked exactly once
    assert network.attempts == []


# --- the import_lesson command -------------------------------------------------------------


# What the command takes for a URL (anything else is a file path): scheme://….
COMMAND_URLS = [u for u in INTERNAL_URLS + OTHER_SCHEMES + WITH_CREDENTIALS if "://" in u[:12]]


@pytest.mark.django_db
@pytest.mark.parametrize("url", COMMAND_URLS)
def test_command_refuses_the_url_with_one_line_and_writes_nothing(
    network: Network, url: str
) -> None:
    run = run_import(url, "--course", "课程", "--title", "一")
    assert run.error is not None
    [line] = run.error_lines
    assert (
        "private, loopback" in line
        or "only http" in line
        or "credentials" in line
        or ("cannot resolve" in line and "LOCALHOST." in url)
    )
    assert "no such file" not in line
    assert set(row_counts().values()) == {0}
    assert network.attempts == []


@pytest.mark.django_db
def test_command_imports_from_a_public_host_without_allow_private(
    network: Network, server: PageServer
) -> None:
    run = run_import(f"http://lessons.example{SEED_PATH}")
    assert run.error is None, run.stderr
    assert Lesson.objects.get().comment_count == 18
    assert server.requests == [SEED_PATH]
    assert network.attempts == []


@pytest.mark.django_db
def test_command_refuses_a_public_page_that_redirects_inside(
    network: Network, server: PageServer
) -> None:
    server.redirect(quote("/moved/01-一.md"), "http://127.0.0.1:6379/")
    run = run_import("http://public.example/moved/01-一.md", "--course", "课程")
    assert run.error is not None
    assert "127.0.0.1 resolves to 127.0.0.1" in run.error_lines[0]
    assert set(row_counts().values()) == {0}
    assert network.attempts == []


@pytest.mark.django_db
def test_allow_private_reaches_the_local_server_and_nothing_else(
    network: Network, server: PageServer
) -> None:
    network.local_allowed = True
    run = run_import(f"http://127.0.0.1:{server.port}{SEED_PATH}", "--allow-private")
    assert run.error is None, run.stderr
    assert server.requests == [SEED_PATH]
    assert network.attempts == []
