/* Material for MkDocs' page globals, moved out of the inline <script> in its base template so
   the site's CSP can forbid inline script. Loaded as a classic, blocking script in <head>
   (site/overrides/partials/javascripts/base.html); same code as the original, except that the
   scope comes from a data attribute instead of being templated into the script. */
(() => {
  "use strict";
  const script = document.currentScript;
  window.__md_scope = new URL((script && script.dataset.mdScope) || ".", location);
  window.__md_hash = (value) =>
    [...value].reduce((hash, ch) => (hash << 5) - hash + ch.charCodeAt(0), 0);
  window.__md_get = (key, storage = localStorage, base = window.__md_scope) =>
    JSON.parse(storage.getItem(base.pathname + "." + key));
  window.__md_set = (key, value, storage = localStorage, base = window.__md_scope) => {
    try {
      storage.setItem(base.pathname + "." + key, JSON.stringify(value));
    } catch (e) {
      // storage full or disabled: Material treats these preferences as optional
    }
  };
})();
