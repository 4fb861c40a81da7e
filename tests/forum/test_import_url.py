"""Importing from http(s) URLs, and the checks that keep a URL from reaching inside our network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from forum.importing import fetch
from forum.importing.fetch import FetchError, check_url, fetch_url
from lessons.models import Lesson
from tests.forum.import_helpers import SEED, SEED_COURSE, row_counts, run_import

SEED_PATH = f"/{quote(SEED_COURSE)}/{quote(SEED.name)}"


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True


@dataclass
class PageServer:
    port: int
    routes: dict[str, Response]
    requests: list[str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    """A local HTTP server (127.0.0.1, random port) that serves `routes` and logs requests."""
    routes: dict[str, Response] = {SEED_PATH: Response(SEED.read_bytes())}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            response = routes.get(self.path, Response(b"not found", status=404))
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.content_length:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that stops reading at the size limit breaks the pipe: expected

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield PageServer(server.server_address[1], routes, requests)
    server.shutdown()
    server.server_close()
    thread.join()


def fake_dns(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Every host name resolves to `addresses`."""

    def getaddrinfo(host, port, *args, **kwargs):
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- the command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_url_on_a_local_server_is_imported_with_allow_private(page_server: PageServer) -> None:
    run = run_import(page_server.url(SEED_PATH), "--allow-private")
    assert run.error is None, run.stderr
    lesson = Lesson.objects.get()
    assert (lesson.course.title, lesson.number) == (SEED_COURSE, 1)
    assert lesson.title == "洞察本质：从工程学角度看ChatGPT为什么会崛起"
    assert lesson.source_ref == page_server.url(SEED_PATH)
    assert lesson.comment_count == 18


@pytest.mark.django_db
def test_url_whose_file_name_starts_with_5000_digits_is_one_warning_and_the_run_goes_on(
    page_server: PageServer, tmp_path
) -> None:
    """A file name holds 255 bytes at most; a URL's does not: the number is too large for a
    lesson's, the page is imported unnumbered, and the next source is imported too."""
    long_path = f"/{quote(SEED_COURSE)}/{'7' * 5000}-{quote('长文件名')}.md"
    page_server.routes[long_path] = Response(SEED.read_bytes())
    next_file = tmp_path / SEED_COURSE / "02-下一课.md"
    next_file.parent.mkdir()
    next_file.write_bytes(SEED.read_bytes())

    run = run_import(page_server.url(long_path), str(next_file), "--allow-private", "--keep-going")

    assert run.error is None, run.stderr
    warnings = [line for line in run.stdout.splitlines() if "too large" in line]
    assert len(warnings) == 1, run.stdout
    assert "lesson number 77777777777777777777… in the file name is too large" in warnings[0]
    assert Lesson.objects.get(title="长文件名").number is None
    assert Lesson.objects.get(title="下一课").number == 2
    assert page_server.requests == [long_path]


@pytest.mark.django_db
@pytest.mark.parametrize("folder", ["%2e%2e", "..", "课程/..", "./%2E%2E"])
def test_a_url_folder_of_dot_segments_names_no_course(page_server: PageServer, folder) -> None:
    """`/../README.md` is `/README.md`, as a browser reads it: no course titled `..` (whose
    export would once have written outside its folder)."""
    path = f"/{quote(folder, safe='/%.')}/01-{quote('入门')}.md"
    page_server.routes[path] = Response(SEED.read_bytes())
    run = run_import(page_server.url(path), "--allow-private")
    assert run.error is not None
    assert "no course: give one with --course" in run.stderr
    assert set(row_counts().values()) == {0}
    run = run_import(page_server.url(path), "--allow-private", "--course", "课程")
    assert run.error is None, run.stderr
    assert list(Lesson.objects.values_list("course__title", "title")) == [("课程", "入门")]


@pytest.mark.django_db
def test_loopback_url_is_refused_before_connecting(page_server: PageServer) -> None:
    run = run_import(page_server.url(SEED_PATH))
    assert run.error is not None
    [line] = run.error_lines
    assert line.startswith(f"error: {page_server.url(SEED_PATH)}: 127.0.0.1 resolves to 127.0.0.1")
    assert "private, loopback or link-local" in line
    assert "--allow-private" in line
    assert page_server.requests == []
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["ftp://example.com/课程/01-一.md", "file:///etc/passwd", "HTTP://127.0.0.1/01-一.md"]
)
def test_command_refuses_urls_other_than_public_http(url: str) -> None:
    run = run_import(url)
    assert run.error is not None
    [line] = run.error_lines
    assert "no such file" not in line
    assert "only http and https" in line or "private, loopback" in line


@pytest.mark.django_db
def test_page_over_the_size_limit_is_refused(page_server: PageServer) -> None:
    page_server.routes[quote("/big/01-大.md")] = Response(b"a" * 5_000_001)
    run = run_import(page_server.url("/big/01-大.md"), "--allow-private")
    assert run.error is not None
    assert "5000001 bytes is over the 5000000-byte limit" in run.error_lines[0]
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
def test_http_error_status_is_reported(page_server: PageServer) -> None:
    run = run_import(page_server.url("/课程/01-没有.md"), "--allow-private")
    assert run.error is not None
    assert run.error_lines[0].endswith(": HTTP 404 Not Found")


# --- fetch_url -------------------------------------------------------------------------------


def test_redirect_to_a_private_address_is_refused_without_following_it(
    page_server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local server stands in for a public one; the address it redirects to is checked."""
    page_server.routes["/moved.md"] = Response(
        status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    checked: list[str] = []

    def check_first_as_public(url: str, *, allow_private: bool = False) -> fetch.Target:
        checked.append(url)
        return check_url(url, allow_private=allow_private or len(checked) == 1)

    monkeypatch.setattr(fetch, "check_url", check_first_as_public)
    with pytest.raises(FetchError, match=r"169\.254\.169\.254 .*private, loopback or link-local"):
        fetch_url(page_server.url("/moved.md"))
    assert checked[1] == "http://169.254.169.254/latest/meta-data/"
    assert page_server.requests == ["/moved.md"]


def test_relative_redirect_is_followed(page_server: PageServer) -> None:
    page_server.routes["/moved.md"] = Response(status=301, headers={"Location": SEED_PATH})
    assert fetch_url(page_server.url("/moved.md"), allow_private=True) == SEED.read_bytes()
    assert page_server.requests == ["/moved.md", SEED_PATH]


def test_redirect_loop_is_cut_off(page_server: PageServer) -> None:
    page_server.routes["/loop"] = Response(status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch_url(page_server.url("/loop"), allow_private=True)


def test_body_without_content_length_is_cut_at_the_size_limit(page_server: PageServer) -> None:
    page_server.routes["/stream.md"] = Response(b"b" * 10_000, content_length=False)
    with pytest.raises(FetchError, match="more than the 1000-byte limit"):
        fetch_url(page_server.url("/stream.md"), max_bytes=1000, allow_private=True)


def test_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/01-一.md"
        with pytest.raises(FetchError, match="timed out"):
            fetch_url(url, timeout=0.2, allow_private=True)


# --- check_url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://localhost:8000/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "https://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="private, loopback or link-local"):
        check_url(url)


def test_host_name_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "127.0.0.1")
    with pytest.raises(FetchError, match=r"lessons\.example resolves to 127\.0\.0\.1"):
        check_url("https://lessons.example/课程/01-一.md")


def test_host_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "93.184.215.14", "10.1.2.3")
    with pytest.raises(FetchError, match=r"resolves to 10\.1\.2\.3"):
        check_url("https://lessons.example/01-一.md")


def test_public_address_is_pinned_for_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "93.184.215.14")
    target = check_url("https://lessons.example/a/01-一.md?rev=2")
    assert (target.host, target.port, target.address) == ("lessons.example", 443, "93.184.215.14")
    assert target.path == "/a/01-%E4%B8%80.md?rev=2"


def test_url_with_a_chinese_file_name_is_fetched(page_server: PageServer) -> None:
    unquoted = f"http://127.0.0.1:{page_server.port}/{SEED_COURSE}/{SEED.name}"
    assert fetch_url(unquoted, allow_private=True) == SEED.read_bytes()
    assert page_server.requests == [SEED_PATH]


def test_allow_private_accepts_loopback() -> None:
    assert check_url("http://127.0.0.1:8000/x.md", allow_private=True).address == "127.0.0.1"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x.md", "file:///etc/passwd", "javascript:alert(1)", "//x/y.md"]
)
def test_schemes_other_than_http_and_https_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https URLs are imported"):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["http://user:secret@example.com/x.md", "https://user@example.com/x.md"]
)
def test_urls_with_credentials_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="URLs with credentials are refused"):
        check_url(url)


# --- the overall deadline and the size limit ----------------------------------------------------


@dataclass
class DripServer:
    """Answers every request with `head`, then `drip` one byte at a time, `interval` apart."""

    port: int
    head: bytes = b""
    drip: bytes = b""
    interval: float = 0.05

    def url(self, path: str = "/01-一.md") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def drip_server() -> Iterator[DripServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    drip = DripServer(listener.getsockname()[1])

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            try:
                connection.sendall(drip.head)
                for byte in drip.drip:
                    if stop.wait(drip.interval):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return  # the client gave up: what the test wants

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield drip
    stop.set()
    thread.join()
    listener.close()


def fetch_time(url: str, timeout: float) -> tuple[FetchError, float]:
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch_url(url, timeout=timeout, allow_private=True)
    return info.value, time.monotonic() - started


def test_body_dripped_a_byte_at_a_time_hits_the_overall_deadline(drip_server: DripServer) -> None:
    """Each byte comes well within a per-read timeout: only a deadline for the whole fetch helps."""
    drip_server.head = b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n"
    drip_server.drip = b"a" * 100_000
    error, elapsed = fetch_time(drip_server.url(), timeout=0.5)
    assert "timed out" in str(error)
    assert 0.5 <= elapsed < 2


def test_headers_dripped_a_byte_at_a_time_hit_the_overall_deadline(
    drip_server: DripServer,
) -> None:
    drip_server.drip = b"HTTP/1.0 200 OK\r\n" + b"X-Slow: " + b"z" * 60_000
    error, elapsed = fetch_time(drip_server.url(), timeout=0.5)
    assert "timed out" in str(error)
    assert elapsed < 2


def test_deadline_covers_every_redirect(drip_server: DripServer) -> None:
    """Five redirects, each answered just inside a per-read timeout, still share one deadline."""
    drip_server.drip = b"HTTP/1.0 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
    drip_server.interval = 0.01
    error, elapsed = fetch_time(drip_server.url(), timeout=1.0)
    assert "timed out" in str(error)
    assert elapsed < 2.5


def test_tls_handshake_that_never_finishes_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"https://127.0.0.1:{silent.getsockname()[1]}/01-一.md"
        error, elapsed = fetch_time(url, timeout=0.3)
    assert "timed out" in str(error)
    assert elapsed < 2


def test_chunked_body_is_cut_at_the_size_limit(page_server: PageServer) -> None:
    chunk = b"400\r\n" + b"c" * 0x400 + b"\r\n"
    page_server.routes["/chunked.md"] = Response(
        chunk * 10 + b"0\r\n\r\n", headers={"Transfer-Encoding": "chunked"}, content_length=False
    )
    with pytest.raises(FetchError, match="more than the 5000-byte limit"):
        fetch_url(page_server.url("/chunked.md"), max_bytes=5000, allow_private=True)


def test_page_at_the_size_limit_is_fetched(page_server: PageServer) -> None:
    page_server.routes["/exact.md"] = Response(b"e" * 5000, content_length=False)
    assert fetch_url(page_server.url("/exact.md"), max_bytes=5000, allow_private=True) == (
        b"e" * 5000
    )


@pytest.mark.django_db
def test_command_timeout_is_an_overall_deadline(drip_server: DripServer) -> None:
    drip_server.head = b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n"
    drip_server.drip = b"a" * 100_000
    started = time.monotonic()
    run = run_import(drip_server.url(), "--allow-private", "--timeout", "0.5", "--course", "课程")
    assert time.monotonic() - started < 2
    assert run.error is not None
    [line] = run.error_lines
    assert "timed out" in line
    assert set(row_counts().values()) == {0}
