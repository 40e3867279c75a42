// Copy buttons: copy the text (or a field's value) of the element named by data-copy and say so.
(function () {
  "use strict";
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      var text = source.tagName === "INPUT" ? source.value : source.textContent.trim();
      var label = button.textContent;
      function done(message) {
        button.textContent = message;
        window.setTimeout(function () { button.textContent = label; }, 1500);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { done("Copied"); },
          function () { done("Select and copy"); });
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        done("Selected");
      }
    });
  });
})();
