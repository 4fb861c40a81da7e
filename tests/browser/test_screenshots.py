"""`make screenshots`: every page of tests/site_pages.py at 1280 and 390 px, light and dark, into
docs/screenshots/ (or $LESSON_FORUM_SCREENSHOTS). Not part of `make test`: skipped unless asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import serve_remote_images
from tests.site_pages import build_scene, client_for

pytestmark = pytest.mark.django_db(transaction=True)

OUT = os.environ.get("LESSON_FORUM_SCREENSHOTS", "")
WIDTHS = {"1280": (1280, 900), "390": (390, 844)}


@pytest.mark.skipif(not OUT, reason="make screenshots sets LESSON_FORUM_SCREENSHOTS")
def test_screenshots(browser, live_server):
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)
    scene = build_scene()
    shots = [(p.name, p.path, p.who, "") for p in scene.pages]
    shots.append(("lesson-comments", scene.lesson.get_absolute_url(), "member", "#comments"))
    for name, path, who, anchor in shots:
        client = client_for(scene, who)
        for width, (w, h) in WIDTHS.items():
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": w, "height": h}, color_scheme=scheme, locale="zh-CN"
                )
                if "sessionid" in client.cookies:
                    session = client.cookies["sessionid"].value
                    context.add_cookies(
                        [{"name": "sessionid", "value": session, "url": live_server.url}]
                    )
                page = context.new_page()
                serve_remote_images(page)
                page.goto(live_server.url + path + anchor)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(out / f"{name}-{width}-{scheme}.png"))
                context.close()
