// EduCase: start GOV.UK Frontend's components (conditional reveals, character counts, error summary
// focus...) on the page, and again on any content that htmx swaps in.
import { initAll } from "./vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

document.addEventListener("htmx:load", (event) => {
  const element = event.detail && event.detail.elt;
  // htmx also fires htmx:load for the whole body when it starts: that is already initialised.
  if (element instanceof HTMLElement && element !== document.body) {
    initAll({ scope: element });
  }
});
