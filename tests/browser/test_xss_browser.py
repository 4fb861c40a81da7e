"""Stored XSS in a real browser: the corpus, rendered by the project, loaded in Chromium.

The project pages are the lesson page of a lesson whose comments are the vectors (posted with
comment_post, 1,000 a page) and lesson pages whose articles are the vectors (saved with
Lesson.save, many an article: see `pack`). Every page gets the same hooks before any of its
scripts run (sinks wrapped, dialogs and navigations counted), then synthetic events on every
element, then a pause; every call into a sink counts as a fire.

The browser context bypasses the CSP, so what is measured is the sanitizer alone: whatever
would fire under the CSP fires without it too. test_csp.py checks the CSP itself, and
`test_planted_script_does_not_run_under_the_production_csp` shows what it stops.

The sensitivity control runs in the same test, context and hooks: every raw vector in its own
`<iframe srcdoc>` on a page of the live server's origin without CSP. It must fire, or the
harness is broken; it reports how many vectors fired and through which event.
`make security-full` (XSS_FULL=1) runs every vector instead of the 1,000-vector sample.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from html import escape

import pytest

from forum import services
from forum.models import Comment
from lessons.models import Lesson
from lessons.rendering import render_lesson_body
from tests.browser.conftest import PIXEL
from tests.factories import CourseFactory, LessonFactory, UserFactory
from tests.security.corpus import Vector, browser_sample, load_vectors, summarize
from tests.security.production import use_production_settings

pytestmark = pytest.mark.django_db(transaction=True)

FULL = os.environ.get("XSS_FULL", "") not in ("", "0")
COMMENTS_PER_PAGE = 1000
ARTICLE_SIZE = 100
FRAMES_PER_PAGE = 200
SETTLE_MS = 300
FIRED = "__XSS_FIRED__"  # what HOOKS logs for each sink call, then a JSON record

HOOKS = """
(() => {
  const log = console.log.bind(console);
  // The control's frame (named after its vector) this code runs in, however deep.
  const frame = () => {
    try {
      for (let w = window; w !== w.top; w = w.parent) {
        if (w.frameElement && w.frameElement.name) return w.frameElement.name;
      }
    } catch (error) {}
    return "top";
  };
  window.__xssPhase = "loading";
  const record = (sink, detail) => {
    let text = "";
    try { text = String(detail).slice(0, 80); } catch (error) {}
    log("__XSS_FIRED__", JSON.stringify({frame: frame(), phase: window.__xssPhase, sink, text}));
  };
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    window[name] = function (...args) { record(name, args[0]); };
  }
  // Not eval or Function: Playwright's evaluate runs through them, and what a vector
  // evaluates ends in one of these sinks anyway.
  for (const name of ["setTimeout", "setInterval"]) {
    const original = window[name];
    window[name] = function (callback, ...rest) {
      if (typeof callback === "string") { record(name, callback); return 0; }
      return original.call(this, callback, ...rest);
    };
  }
  for (const name of ["write", "writeln"]) {
    Document.prototype[name] = function (...args) { record("document." + name, args[0]); };
  }
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    get() { record("document.cookie", ""); return cookie.get.call(this); },
    set(value) { record("document.cookie=", value); },
    configurable: true,
  });
  window.fetch = function (url) { record("fetch", url); return new Promise(() => {}); };
  navigator.sendBeacon = function (url) { record("sendBeacon", url); return true; };
  window.WebSocket = function (url) { record("WebSocket", url); };
  window.EventSource = function (url) { record("EventSource", url); };
  // htmx's own requests carry HX-Request; any other XMLHttpRequest is a vector's.
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
    if (name.toLowerCase() === "hx-request") this.__htmx = true;
    return setHeader.call(this, name, value);
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.__htmx) { record("XMLHttpRequest", ""); return; }
    return send.apply(this, args);
  };
  for (const Element of [HTMLImageElement, HTMLScriptElement]) {
    const src = Object.getOwnPropertyDescriptor(Element.prototype, "src");
    Object.defineProperty(Element.prototype, "src", {
      get() { return src.get.call(this); },
      set(value) { record(Element.name + ".src=", value); },
      configurable: true,
    });
  }
  // Synthetic clicks must not leave the page: follow only links a vector could script.
  const scriptable = (url) => /^\\s*(javascript|vbscript|data):/i.test(url || "");
  addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href], area[href]");
    if (link && !scriptable(link.getAttribute("href"))) event.preventDefault();
  }, true);
  addEventListener("submit", (event) => {
    const action = (event.submitter && event.submitter.getAttribute("formaction"))
      || event.target.getAttribute("action");
    if (!scriptable(action)) event.preventDefault();
  }, true);
  // htmx requests would swap the page under the events: cancel them.
  addEventListener("htmx:beforeRequest", (event) => event.preventDefault(), true);
  window.__xssHooked = true;
})();
"""

EVENTS = {
    "MouseEvent": "mouseover mouseenter mouseout mouseleave mousemove mousedown mouseup click "
    "dblclick contextmenu auxclick",
    "PointerEvent": "pointerdown pointerup pointerover pointerenter pointermove",
    "FocusEvent": "focus blur focusin focusout",
    "Event": "load error toggle beforetoggle change select scroll resize play playing "
    "loadstart canplay invalid cuechange show submit reset search wheel",
    "AnimationEvent": "animationstart animationend animationiteration",
    "TransitionEvent": "transitionstart transitionrun transitionend",
    "KeyboardEvent": "keydown keyup keypress",
    "InputEvent": "input beforeinput",
    "ClipboardEvent": "copy cut paste",
    "DragEvent": "drag dragstart dragend dragenter dragover drop",
}
# One call from the top frame into every same-origin frame (the control's srcdoc frames and
# what they hold): a frame without a document never answers a Playwright evaluate.
DISPATCH = """
(events) => {
  const kinds = Object.entries(events).map(([kind, names]) => [kind, names.split(" ")]);
  let elements = 0;
  let dispatched = 0;
  const provoke = (win) => {
    let all;
    try { all = win.document.querySelectorAll("*"); } catch (error) { return; }
    for (const element of all) {
      elements += 1;
      for (const [kind, names] of kinds) {
        const Kind = win[kind] || win.Event;
        for (const name of names) {
          win.__xssPhase = name;
          try {
            element.dispatchEvent(new Kind(name, { bubbles: true, cancelable: true }));
            dispatched += 1;
          } catch (error) {}
        }
      }
      win.__xssPhase = "focus()";
      try { element.focus(); } catch (error) {}
    }
    win.__xssPhase = "after the events";
    for (let n = 0; n < win.frames.length; n++) provoke(win.frames[n]);
  };
  provoke(window);
  return [elements, dispatched];
}
"""


@dataclass
class Run:
    """What the hooks saw on a set of pages."""

    pages: int = 0
    elements: int = 0
    dispatched: int = 0
    fires: list[dict] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    @property
    def fired(self) -> int:
        return len(self.fires) + len(self.dialogs) + len(self.navigations)

    def counted(self, key: str) -> str:
        counts = Counter(fire[key] for fire in self.fires).most_common(12)
        return ", ".join(f"{name} {count}" for name, count in counts) or "none"

    def __str__(self) -> str:
        return (
            f"{self.fired} fired ({len(self.fires)} sink calls, {len(self.dialogs)} dialogs, "
            f"{len(self.navigations)} navigations) on {self.pages} pages, "
            f"{self.elements} elements, {self.dispatched} synthetic events; "
            f"sinks: {self.counted('sink')}; when: {self.counted('phase')}"
        )


@pytest.fixture
def hooked(browser):
    """A context that ignores CSP, with the hooks in every frame before any page script."""
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    context.add_init_script(HOOKS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    # No internet here, and nothing a vector names leaves the machine: a pixel for images,
    # an empty answer for everything else.
    context.route(
        lambda url: not url.startswith("http://localhost"),
        lambda route: (
            route.fulfill(status=200, body=PIXEL, content_type="image/png")
            if route.request.resource_type == "image"
            else route.fulfill(status=204, body="")
        ),
    )
    yield page
    context.close()


@pytest.fixture
def quiet_404s():
    """The vectors' relative URLs (src=x) are 404s the live server would log by the hundred."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def load_and_provoke(page, url: str, run: Run) -> None:
    """Open `url`, fire the events everywhere, wait, and add what the hooks saw to `run`."""

    def on_console(message) -> None:
        if message.text.startswith(FIRED):
            run.fires.append({"url": url, **json.loads(message.text[len(FIRED) + 1 :])})

    def on_dialog(dialog) -> None:
        run.dialogs.append(dialog.message)
        dialog.dismiss()

    def stay(route) -> None:
        request = route.request
        leaving = request.is_navigation_request() and request.frame == page.main_frame
        if leaving and request.url != url:
            run.navigations.append(request.url)
            route.fulfill(status=204, body="")
        else:
            route.fallback()

    page.on("console", on_console)
    page.on("dialog", on_dialog)
    page.route("**/*", stay)
    response = page.goto(url, wait_until="load")
    assert response.status == 200, url
    assert page.evaluate("window.__xssHooked") is True
    elements, dispatched = page.evaluate(DISPATCH, EVENTS)
    run.elements += elements
    run.dispatched += dispatched
    page.wait_for_timeout(SETTLE_MS)
    page.remove_listener("console", on_console)
    page.remove_listener("dialog", on_dialog)
    page.unroute_all()
    run.pages += 1


MARK = "⟦{}⟧"
# After each vector: ends whatever raw-text element, comment, CDATA section, processing
# instruction or attribute value it left open, so that it does not swallow the next one.
RESET = (
    "\"'>--></textarea></title></style></script></xmp></noembed></noframes></noscript></pre>"
    "</template></iframe>]]>?>"
)


def article(vectors: list[Vector]) -> str:
    parts = []
    for n, vector in enumerate(vectors):
        parts += [MARK.format(n), vector.text, RESET]
    return "\n\n".join([*parts, MARK.format(len(vectors))])


def pack(vectors: list[Vector]) -> list[list[Vector]]:
    """Vectors in groups of up to ARTICLE_SIZE, each group one article in which every vector
    stands on its own: all the paragraph marks between them survive as `>⟦n⟧<`. A vector that
    still swallows what follows it (an unclosed code fence, say) starts a group of its own."""
    groups = []
    start = 0
    while start < len(vectors):
        group = vectors[start : start + ARTICLE_SIZE]
        while len(group) > 1:
            html = render_lesson_body(article(group))
            marks = range(1, len(group) + 1)
            lost = next((n for n in marks if f">{MARK.format(n)}<" not in html), None)
            if lost is None:
                break
            # Vector lost-1 swallowed the mark after it: the group ends before it.
            group = group[: lost - 1] or group[:1]
        groups.append(group)
        start += len(group)
    return groups


def comment_pages(vectors: list[Vector], live_server) -> list[str]:
    author = services.member_for(UserFactory())
    lesson = LessonFactory(body_markdown="")
    for vector in vectors:
        services.comment_post(author=author, lesson=lesson, body=vector.text)
    assert Comment.objects.filter(lesson=lesson).count() == len(vectors)
    pages = range(1, (len(vectors) - 1) // COMMENTS_PER_PAGE + 2)
    return [f"{live_server.url}{lesson.get_absolute_url()}?sort=old&page={n}" for n in pages]


def article_pages(vectors: list[Vector], live_server) -> tuple[list[str], int]:
    course = CourseFactory()
    groups = pack(vectors)
    pages = []
    for n, group in enumerate(groups):
        lesson = Lesson(course=course, title=f"v{n}", slug=f"v{n}", body_markdown=article(group))
        lesson.save()
        pages.append(live_server.url + lesson.get_absolute_url())
    assert sum(map(len, groups)) == len(vectors)
    return pages, sum(1 for group in groups if len(group) == 1)


def answer_with(body: str, headers: dict[str, str] | None = None):
    def answer(route) -> None:
        route.fulfill(status=200, body=body, content_type="text/html", headers=headers)

    return answer


def control_pages(page, vectors: list[Vector], live_server) -> list[str]:
    """Pages on the live server's origin, no CSP, each raw vector in a frame of its own."""
    urls = []
    for start in range(0, len(vectors), FRAMES_PER_PAGE):
        frames = "".join(
            f'<iframe name="v{n}" srcdoc="{escape(vector.text)}"></iframe>'
            for n, vector in enumerate(vectors[start : start + FRAMES_PER_PAGE], start)
        )
        body = f"<!DOCTYPE html><meta charset=utf-8><title>raw</title>{frames}"
        url = f"{live_server.url}/xss-control/{start}/"
        page.context.route(url, answer_with(body))
        urls.append(url)
    return urls


def test_no_vector_fires_in_the_project_pages_and_the_raw_control_does(
    request, settings, live_server, hooked, quiet_404s
):
    started = time.monotonic()
    settings.FORUM_COMMENTS_PER_PAGE = COMMENTS_PER_PAGE
    use_production_settings(settings, SECURE_SSL_REDIRECT="0")
    vectors = browser_sample(load_vectors(), full=FULL)
    comments = comment_pages(vectors, live_server)
    articles, alone = article_pages(vectors, live_server)
    controls = control_pages(hooked, vectors, live_server)
    built = time.monotonic()

    project, control = Run(), Run()
    shown = 0
    for url in comments:
        load_and_provoke(hooked, url, project)
        shown += hooked.locator("[data-comment-body]").count()
    assert shown == len(vectors)  # every comment was on a page, none lost to paging
    for url in articles:
        load_and_provoke(hooked, url, project)
    browsed = time.monotonic()
    for url in controls:
        load_and_provoke(hooked, url, control)
    fired_vectors = {fire["frame"] for fire in control.fires} - {"top"}

    summarize(
        request.config,
        f"browser: {len(vectors)} vectors ({'the whole corpus' if FULL else 'sample'}) as "
        f"comments on {len(comments)} pages and in {len(articles)} lesson articles ({alone} "
        f"vectors alone in theirs); built in {built - started:.0f} s, project pages browsed "
        f"in {browsed - built:.0f} s, control in {time.monotonic() - browsed:.0f} s",
    )
    summarize(request.config, f"browser, project pages: {project}")
    summarize(
        request.config,
        f"browser, raw control: {len(fired_vectors)} of {len(vectors)} vectors fired; {control}",
    )
    assert control.fired > 0, f"harness broken: the unsanitized control did not fire ({control})"
    assert project.fired == 0, f"{project}: {project.fires[:20]} {project.navigations[:20]}"


def test_planted_script_does_not_run_under_the_production_csp(
    request, settings, live_server, lesson_url, browser
):
    use_production_settings(settings, SECURE_SSL_REDIRECT="0")
    context = browser.new_context()
    context.add_init_script(HOOKS)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    policy = page.goto(lesson_url).headers["content-security-policy"]
    planted = (
        "<!DOCTYPE html><title>planted</title><p>planted"
        "<script>alert('inline script')</script>"
        "<img src=/no-such-image onerror=\"alert('onerror')\">"
        "<a id=link href=\"javascript:alert('link')\">link</a>"
    )
    fired = {}
    for case, headers in {"with": {"Content-Security-Policy": policy}, "without": {}}.items():
        url = f"{live_server.url}/planted-{case}-csp/"
        page.route(url, answer_with(planted, headers))
        messages.clear()
        page.goto(url, wait_until="load")
        page.click("#link")
        page.wait_for_timeout(SETTLE_MS)
        fired[case] = sorted(
            json.loads(m[len(FIRED) + 1 :])["text"] for m in messages if m.startswith(FIRED)
        )
        if case == "with":
            blocked = [m for m in messages if "Content Security Policy" in m]
            assert len(blocked) >= 3, messages
    context.close()
    assert fired["with"] == []
    # The same page without the header runs all three: the CSP is what stopped them.
    assert fired["without"] == ["inline script", "link", "onerror"]
    summarize(
        request.config,
        f"planted script under the production CSP ({policy}): 0 of 3 ran; without it: 3 of 3",
    )
