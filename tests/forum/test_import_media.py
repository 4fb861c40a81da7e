"""`import_lesson --fetch-media`: a lesson's images and avatars, downloaded once and served here."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from forum import images
from forum.importing.media import _url_replace
from forum.models import MediaFile, Member
from lessons.models import Lesson
from tests.forum.image_files import PDF, image_bytes
from tests.forum.import_helpers import run_import

pytestmark = pytest.mark.django_db
PAGE_PATH = "/" + quote("图片课") + "/" + quote("01-有图的一讲.md")


@dataclass
class ImageServer:
    """The page over HTTP, the images over HTTPS (the importer makes avatars' URLs https)."""

    port: int
    tls_port: int
    routes: dict[str, tuple[bytes, str]]
    requests: Counter

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def image_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}{path}"

    def page(self, *, picture: str, avatars: dict[str, str]) -> None:
        """A lesson page: an article with `picture` twice, and a comment by each of `avatars`."""
        comments = "".join(
            f'<li><img src="{self.image_url(path)}" width="30px"><span>{name}</span> 👍（1） '
            f"💬（0）<div>{name}的留言</div>2024-06-07</li>"
            for name, path in avatars.items()
        )
        text = (
            f"你好，我是独行。\n\n第一段。\n\n![图一]({self.image_url(picture)})\n\n"
            f"![图一又一次]({self.image_url(picture)})\n\n"
            f"<div><strong>精选留言（{len(avatars)}）</strong></div><ul>{comments}</ul>"
        )
        self.routes[PAGE_PATH] = (text.encode(), "text/markdown; charset=utf-8")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def image_server(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ImageServer]:
    routes: dict[str, tuple[bytes, str]] = {}
    requests: Counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests[self.path] += 1
            body, content_type = routes.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    plain = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(*certificate)
    tls.socket = server_context.wrap_socket(tls.socket, server_side=True)
    # The importer's HTTPS connections trust this certificate (and only it).
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(ssl, "_create_default_https_context", lambda: client_context)
    threads = [
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        for server in (plain, tls)
    ]
    for thread in threads:
        thread.start()
    yield ImageServer(plain.server_address[1], tls.server_address[1], routes, requests)
    for server in (plain, tls):
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join()


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def image_sources(html: str) -> list[str]:
    parser = _Images()
    parser.feed(html)
    return parser.sources


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def served(image_server: ImageServer) -> ImageServer:
    image_server.routes["/a/shared.png"] = (image_bytes((80, 80), (200, 0, 0)), "image/png")
    image_server.routes["/a/own.jpg"] = (image_bytes((60, 90), (0, 0, 200), "JPEG"), "image/jpeg")
    image_server.routes["/pic.png"] = (image_bytes((640, 360), (0, 150, 0)), "image/png")
    image_server.page(
        picture="/pic.png",
        avatars={"甲": "/a/shared.png", "乙": "/a/shared.png", "丙": "/a/own.jpg"},
    )
    return image_server


def test_each_image_is_stored_once_and_the_lesson_shows_only_this_sites_urls(
    served: ImageServer, media_root: Path, client
):
    run = run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    assert run.error is None, run.stderr
    assert "images: 3 downloaded" in run.stdout
    assert served.requests == {PAGE_PATH: 1, "/a/shared.png": 1, "/a/own.jpg": 1, "/pic.png": 1}
    assert len(stored_files(media_root)) == 3

    members = {m.display_name: m for m in Member.objects.filter(display_name__in="甲乙丙")}
    assert members["甲"].avatar.name == members["乙"].avatar.name != members["丙"].avatar.name
    for member in members.values():
        assert images.STORED_NAME.fullmatch(member.avatar.name)
        assert member.avatar_src == default_storage.url(member.avatar.name)
        assert member.avatar_url.startswith(served.image_url("/a/"))  # kept: where it came from
    with default_storage.open(members["丙"].avatar.name) as file:
        assert Image.open(file).size == (256, 256)

    lesson = Lesson.objects.get()
    page = client.get(lesson.get_absolute_url()).content.decode()
    article = image_sources(lesson.body_html)
    picture = MediaFile.objects.get(kind="picture").stored_name
    assert article == [default_storage.url(picture)] * 2
    assert served.image_url("/pic.png") not in lesson.body_markdown
    on_page = image_sources(page)
    assert on_page.count(default_storage.url(picture)) == 2
    assert served.image_url("/pic.png") not in on_page
    # Every image the page shows is this site's: the avatars on the comment cards too.
    assert on_page and all(source.startswith(default_storage.url("")) for source in on_page)
    assert {members[name].avatar_src for name in "甲丙"} <= set(on_page)
    with default_storage.open(picture) as file:
        assert Image.open(file).size == (640, 360)


def test_importing_again_fetches_nothing_again(served: ImageServer, media_root: Path):
    run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    files = stored_files(media_root)
    served.requests.clear()
    run = run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    assert run.error is None, run.stderr
    assert served.requests == {PAGE_PATH: 1}
    assert stored_files(media_root) == files


def test_a_lesson_imported_without_the_flag_gets_its_images_on_a_later_run(served: ImageServer):
    run_import(served.url(PAGE_PATH), "--allow-private")
    assert served.requests == {PAGE_PATH: 1}
    assert Member.objects.exclude(avatar="").count() == 0
    assert served.image_url("/pic.png") in Lesson.objects.get().body_html

    run = run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    assert "lessons: 0 created, 0 updated, 1 unchanged" in run.stdout
    assert Member.objects.filter(display_name__in="甲乙丙").exclude(avatar="").count() == 3
    assert served.image_url("/pic.png") not in Lesson.objects.get().body_html


def test_a_refused_or_missing_image_keeps_its_remote_url_with_a_warning(
    image_server: ImageServer, media_root: Path
):
    image_server.routes["/a/fake.png"] = (PDF, "image/png")
    image_server.routes["/pic.png"] = (image_bytes(), "image/png")
    image_server.page(picture="/missing.png", avatars={"甲": "/a/fake.png", "乙": "/a/none.png"})
    run = run_import(image_server.url(PAGE_PATH), "--allow-private", "--fetch-media")
    assert run.error is None, run.stderr
    assert "lessons: 1 created" in run.stdout
    warnings = [line for line in run.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3
    assert any("/a/fake.png" in w and "not a JPEG, PNG, WebP or GIF" in w for w in warnings)
    assert any("/a/none.png" in w and "HTTP 404" in w for w in warnings)
    assert any("/missing.png" in w and "HTTP 404" in w for w in warnings)
    assert Member.objects.exclude(avatar="").count() == 0
    assert image_server.image_url("/missing.png") in Lesson.objects.get().body_html
    assert stored_files(media_root) == []
    assert MediaFile.objects.count() == 0


def test_without_the_flag_no_image_is_fetched(served: ImageServer, media_root: Path):
    run_import(served.url(PAGE_PATH), "--allow-private")
    assert served.requests == {PAGE_PATH: 1}
    assert stored_files(media_root) == []


def test_media_urls_are_refused_on_private_addresses_without_allow_private(
    served: ImageServer, monkeypatch: pytest.MonkeyPatch
):
    # The page comes through (as if public); each image's URL is checked again on its own.
    from forum.importing import media

    real = media.fetch_url

    def fetch_without_private(url, **kwargs):
        return real(url, **{**kwargs, "allow_private": False})

    run_import(served.url(PAGE_PATH), "--allow-private")
    monkeypatch.setattr(media, "fetch_url", fetch_without_private)
    run = run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    assert run.stdout.count("private, loopback or link-local") == 3
    assert set(served.requests) == {PAGE_PATH}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("![](https://x/a.png)", "![](/m/1.png)"),
        ('<img src="https://x/a.png">', '<img src="/m/1.png">'),
        (
            "![](https://x/a.png2) ![](https://x/a.png?s=1)",
            "![](https://x/a.png2) ![](https://x/a.png?s=1)",
        ),
        ("see https://x/a.png here", "see /m/1.png here"),
    ],
)
def test_a_url_is_replaced_only_where_it_stands_whole(text, expected):
    assert _url_replace(text, "https://x/a.png", "/m/1.png") == expected


def test_a_dry_run_fetches_no_image(served: ImageServer, media_root: Path):
    run = run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media", "--dry-run")
    assert run.error is None, run.stderr
    assert served.requests == {PAGE_PATH: 1}
    assert stored_files(media_root) == []


def test_a_picture_larger_than_the_cap_is_scaled_down(served: ImageServer, settings):
    settings.FORUM_IMAGE_MAX_SIDE = 320
    run_import(served.url(PAGE_PATH), "--allow-private", "--fetch-media")
    with default_storage.open(MediaFile.objects.get(kind="picture").stored_name) as file:
        assert Image.open(file).size == (320, 180)
