// Lesson Forum's own script: small, no inline handlers (strict CSP).

// A missing or failed avatar image falls back to the letter avatar beneath it.
function hideBrokenAvatar(image) {
  image.hidden = true;
}

document.addEventListener(
  "error",
  (event) => {
    if (event.target instanceof HTMLImageElement && event.target.matches("[data-avatar]")) {
      hideBrokenAvatar(event.target);
    }
  },
  true,
);

document.querySelectorAll("img[data-avatar]").forEach((image) => {
  if (image.complete && image.naturalWidth === 0) hideBrokenAvatar(image);
});

// Cancel on an inline reply or report form closes it; without JavaScript the same link goes
// back to the comment.
document.addEventListener("click", (event) => {
  const cancel = event.target instanceof Element && event.target.closest("[data-action=cancel]");
  const slot = cancel && cancel.closest(".reply-slot");
  if (!slot) return;
  event.preventDefault();
  const card = slot.closest(".comment");
  slot.replaceChildren();
  const back = card && card.querySelector("[data-action=reply], [data-action=report]");
  if (back) back.focus();
});

// After htmx puts new content in, keyboard focus goes to it (a like button keeps its focus by
// its id, which htmx restores itself).
let lastBeforeMore = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  lastBeforeMore = target && target.id === "comment-list-more" ? target.previousElementSibling : null;
});

function focusOn(element) {
  if (!element) return;
  if (!element.matches("a, button, input, textarea, select, [tabindex]")) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus({ preventScroll: false });
}

document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  if (!(target instanceof Element)) return;
  if (target.classList.contains("reply-slot")) {
    focusOn(target.querySelector("textarea, input[type=radio]"));
  } else if (target.matches(".comment-replies, .comment-list") && event.detail.requestConfig.verb === "post") {
    // The comment is posted: its composer is empty again, ready for the next one.
    const form = event.detail.requestConfig.elt;
    if (form instanceof HTMLFormElement && form.matches(".comment-form")) form.reset();
    const items = target.querySelectorAll(":scope > li > .comment");
    const newestFirst = target.id === "comment-list" || target.matches("[data-block-list]");
    const added = newestFirst ? items[0] : items[items.length - 1];
    focusOn(added);
  } else if (target.id === "comment-list-more" && lastBeforeMore && lastBeforeMore.isConnected) {
    const next = lastBeforeMore.nextElementSibling;
    focusOn(next && next.querySelector(".comment"));
  }
});

// A block's comment count opens its comments under it (htmx fetches them); a second click
// closes them. aria-expanded says which, for screen readers.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element && event.target.closest("[data-action=block-comments]");
  if (!link) return;
  const panel = document.getElementById(link.getAttribute("aria-controls"));
  if (panel && link.getAttribute("aria-expanded") === "true") {
    event.preventDefault();
    event.stopImmediatePropagation();
    panel.replaceChildren();
    link.setAttribute("aria-expanded", "false");
  }
}, true);

document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  if (!(target instanceof Element) || !target.matches(".block-panel")) return;
  const link = document.querySelector(`[aria-controls="${target.id}"]`);
  if (link) link.setAttribute("aria-expanded", "true");
  focusOn(target.querySelector(".block-discussion"));
});
