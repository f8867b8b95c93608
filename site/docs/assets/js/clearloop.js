// Loads a widget's module only on pages that contain that widget, so each page carries just
// the code it uses. Each widget module wires itself to Material's document$ (instant navigation).
const WIDGETS = { "feedback-form": "./feedback-form.js", track: "./track.js" };

function loadWidgets() {
  for (const element of document.querySelectorAll("[data-clearloop]")) {
    const module = WIDGETS[element.dataset.clearloop];
    if (module) import(module);
  }
}

if (window.document$?.subscribe) window.document$.subscribe(loadWidgets);
else loadWidgets();
