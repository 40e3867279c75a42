// The launch answered with its first page (no redirect to it): give the page its own address,
// so that reloading it, or a bookmark, asks for the page and not for the launch again (whose
// one-time state is spent).
(function () {
  "use strict";
  var script = document.currentScript;
  var address = script && script.getAttribute("data-address");
  if (address && window.history && typeof window.history.replaceState === "function") {
    window.history.replaceState(null, "", address);
  }
})();
