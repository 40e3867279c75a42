// Deep Linking's last step: post the signed answer to the LMS at once (the button is there for
// a browser without script, or one that blocks the automatic post).
(function () {
  "use strict";
  var form = document.getElementById("deep-link-return");
  if (form) { form.submit(); }
})();
