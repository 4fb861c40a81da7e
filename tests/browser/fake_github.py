"""A GitHub OAuth server on 127.0.0.1 for the browser test: an approve page that sends the
browser back with a code and the state, the token endpoint (which checks the PKCE verifier
against the challenge the authorize step got), /user and /user/emails."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

USER = {
    "id": 4242,
    "login": "octo-reader",
    "name": "章鱼读者",
    "avatar_url": "http://127.0.0.1:9/avatar.png",  # refused by the SSRF guard: no avatar
}
EMAILS = [{"email": "octo-reader@example.com", "verified": True, "primary": True}]


class FakeGitHub:
    def __init__(self, *, client_id: str, secret: str) -> None:
        self.client_id, self.secret = client_id, secret
        self.challenges: dict[str, str] = {}  # code → PKCE challenge
        self.tokens: set[str] = set()
        self.calls: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _send(self, status: int, body: str, content_type: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _json(self, data, status: int = 200) -> None:
                self._send(status, json.dumps(data, ensure_ascii=False), "application/json")

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                fake.calls.append(f"GET {url.path}")
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                if url.path == "/login/oauth/authorize":
                    self._approve_page(query)
                elif url.path in {"/user", "/user/emails"}:
                    token = self.headers.get("Authorization", "").removeprefix("token ")
                    if token not in fake.tokens:
                        self._json({"message": "Bad credentials"}, 401)
                    else:
                        self._json(USER if url.path == "/user" else EMAILS)
                else:
                    self._send(404, "not found", "text/plain")

            def _approve_page(self, query: dict[str, str]) -> None:
                if (
                    query.get("client_id") != fake.client_id
                    or query.get("code_challenge_method") != "S256"
                ):
                    self._send(400, "bad request", "text/plain")
                    return
                code = secrets.token_urlsafe(8)
                fake.challenges[code] = query["code_challenge"]
                back = (
                    f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self._send(
                    200,
                    "<!doctype html><title>Authorize</title><h1>Authorize lesson forum</h1>"
                    f'<a id="approve" href="{html.escape(back)}">Authorize</a>',
                    "text/html; charset=utf-8",
                )

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                fake.calls.append(f"POST {url.path}")
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if url.path != "/login/oauth/access_token":
                    self._send(404, "not found", "text/plain")
                    return
                challenge = fake.challenges.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                credentials = (form.get("client_id"), form.get("client_secret"))
                if (
                    challenge is None
                    or challenge != expected
                    or credentials != (fake.client_id, fake.secret)
                ):
                    self._json({"error": "bad_verification_code"})
                    return
                token = secrets.token_urlsafe(8)
                fake.tokens.add(token)
                self._json({"access_token": token, "token_type": "bearer", "scope": "read:user"})

        return Handler
