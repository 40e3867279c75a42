// The picker's "N chosen" line follows the ticks as they change (the page says the count it
// was rendered with when script is off).
(function () {
  "use strict";
  var form = document.getElementById("picker");
  var count = document.getElementById("chosen-count");
  if (!form || !count) { return; }
  function update() {
    var n = form.querySelectorAll('input[name="credential"]:checked').length;
    count.textContent = n === 0
      ? "None chosen yet: tick the ones to add above."
      : n + " micro-credential" + (n === 1 ? "" : "s") + " chosen";
  }
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "credential") { update(); }
  });
})();
