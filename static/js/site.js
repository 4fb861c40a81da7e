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
