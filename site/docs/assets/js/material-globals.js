/* Material for MkDocs' page globals, moved out of the inline <script> in its base template so
   the site's CSP can forbid inline script. Loaded as a classic, blocking script in <head>
   (site/overrides/partials/javascripts/base.html); same behaviour as the original. */
(function () {
  "use strict";
  var script = document.currentScript;
  var scope = (script && script.getAttribute("data-md-scope")) || ".";
  window.__md_scope = new URL(scope, location);
  window.__md_hash = function (value) {
    return Array.prototype.reduce.call(value, function (hash, ch) {
      return (hash << 5) - hash + ch.charCodeAt(0);
    }, 0);
  };
  window.__md_get = function (key, storage, base) {
    storage = storage || localStorage;
    base = base || window.__md_scope;
    return JSON.parse(storage.getItem(base.pathname + "." + key));
  };
  window.__md_set = function (key, value, storage, base) {
    storage = storage || localStorage;
    base = base || window.__md_scope;
    try {
      storage.setItem(base.pathname + "." + key, JSON.stringify(value));
    } catch (e) {
      /* storage full or disabled: Material treats preferences as optional */
    }
  };
})();
