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
    const items = target.querySelectorAll(":scope > li > .comment");
    const added = target.id === "comment-list" ? items[0] : items[items.length - 1];
    focusOn(added);
  } else if (target.id === "comment-list-more" && lastBeforeMore && lastBeforeMore.isConnected) {
    const next = lastBeforeMore.nextElementSibling;
    focusOn(next && next.querySelector(".comment"));
  }
});
