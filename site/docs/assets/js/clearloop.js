// Loads a widget's module only on pages that contain that widget, so each page carries just
// the code it uses. Each widget module wires itself to Material's document$ (instant navigation).
const WIDGETS = {
  "feedback-form": "./feedback-form.js",
  track: "./track.js",
  // Staff console (/staff/): the sign-in widget lives in staff-core.js, which every staff module uses.
  "staff-session": "./staff-core.js",
  "staff-queue": "./staff-queue.js",
  "staff-ticket": "./staff-ticket.js",
  "staff-triage": "./staff-triage.js",
  "staff-intake": "./staff-intake.js",
  "staff-publication": "./staff-publication.js",
};

function loadWidgets() {
  for (const element of document.querySelectorAll("[data-clearloop]")) {
    const module = WIDGETS[element.dataset.clearloop];
    if (module) import(module);
  }
}

if (window.document$?.subscribe) window.document$.subscribe(loadWidgets);
else loadWidgets();
