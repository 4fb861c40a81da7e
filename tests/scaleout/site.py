"""Talking to app servers started by a test, as a browser would."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

PASSWORD = "scale-out-passphrase-2026"


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within 30 s")


class Browser:
    """A cookie-keeping HTTP client; cookies of 127.0.0.1 go to both ports, as in a browser."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, str]:
        try:
            with self.opener.open(url, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, url: str, data: dict, *, htmx: bool = False) -> int:
        token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        headers = {"X-CSRFToken": token, "Referer": url}
        if htmx:
            headers["HX-Request"] = "true"
        request = urllib.request.Request(
            url, data=urlencode(data).encode(), headers=headers, method="POST"
        )
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def log_in(self, base: str, username: str = "scaler") -> None:
        _, html = self.get(f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        self.post(
            f"{base}/accounts/login/",
            {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )


def lesson_path(base: str) -> str:
    _, html = Browser().get(f"{base}/")
    course = re.search(r'href="(/courses/[^"]+/)"', html)[1]
    _, html = Browser().get(base + course)
    return re.search(r'href="(/courses/[^"]+/[^"]+/)"', html)[1]


def card(html: str, comment_id: str) -> str:
    return html.split(f'id="comment-{comment_id}"', 1)[1].split("</article>", 1)[0]


def like_count(html: str, comment_id: str) -> int:
    return int(re.search(r"data-like-count>(\d+)<", card(html, comment_id))[1])
