"""The review's attack on the page cache, in Chromium: a comment that imitates the CSRF token's
field, with a link whose title holds htmx attributes. Readers of the lesson — not signed in,
or members, on the first (rendered) and second (cached) view — send no request but the page's
own and its assets: no htmx request is forced on them."""

from __future__ import annotations

import pytest

from forum import services
from tests.browser.conftest import log_in, serve_remote_images
from tests.factories import LessonFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ATTACK = (
    '```\nname="csrfmiddlewaretoken" value="\n```\n\n'
    '[点这里](/ \'x" hx-post="/accounts/email/" hx-trigger="load" y="\')\n\n'
    '[再点](/ "hx-get=/accounts/logout/ hx-trigger=load")\n\n'
    '`value="="`'
)


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_reader_of_the_attack_sends_no_request_but_the_pages_own(page, live_server, signed_in):
    lesson = LessonFactory()
    services.comment_post(author=MemberFactory(), lesson=lesson, body=ATTACK)
    if signed_in:
        for other in (UserFactory(), UserFactory()):  # the members' copy is made, then shared
            log_in(page, live_server, other)
            page.goto(live_server.url + lesson.get_absolute_url())
            page.context.clear_cookies()
        log_in(page, live_server, UserFactory())
    serve_remote_images(page)
    url = live_server.url + lesson.get_absolute_url()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    for _ in range(2):  # rendered, then the cached copy
        requests.clear()
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # what hx-trigger="load" would have sent by now
        own = (f"GET {url}", f"GET {live_server.url}/static/")
        assert [r for r in requests if not r.startswith(own)] == []
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("[data-comment-id]").count() == 1
