/*
 * Site administration → LTI tools: move focus to what just changed, and run a Dynamic
 * Registration in its iframe. The tool ends the registration by posting
 * {subject: "org.imsglobal.lti.close"} to this window (LTI Dynamic Registration §3.7); only a
 * message from the origin of the URL the admin pasted is taken, and then the list reloads.
 */
(function () {
  "use strict";
  var focus = document.querySelector("[data-focus]");
  if (focus) {
    focus.focus();
  }
  var frame = document.getElementById("registration-frame");
  if (!frame) {
    return;
  }
  var toolOrigin = frame.getAttribute("data-tool-origin");
  var doneUrl = frame.getAttribute("data-done-url");
  window.addEventListener("message", function (event) {
    if (event.origin !== toolOrigin) {
      return;
    }
    var message = event.data;
    if (message && message.subject === "org.imsglobal.lti.close") {
      window.location.assign(doneUrl);
    }
  });
})();
