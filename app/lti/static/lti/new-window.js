/*
 * "Open Microcred in a new window" on Canvas: ask the course page that frames the tool for a
 * full-window launch (Canvas's requestFullWindowLaunch message, doc/api/
 * lti_window_post_message.md). Canvas then opens the activity again in a new window or tab,
 * where it starts a fresh launch: its message hints are single use, so the tool cannot replay
 * the launch itself.
 *
 * The message goes to the parent with the '*' target origin: Canvas's course pages live on the
 * school's own domain, which the tool does not know, and the message carries nothing secret
 * (the tool's URL, the placement and the resource link id). Canvas answers
 * "requestFullWindowLaunch.response"; without an answer (Canvas's mobile apps answer no
 * postMessage) or with an error, the page says so and shows what to do instead. It is sent on
 * the person's click, so that the window Canvas opens is not blocked as a pop-up.
 */
(function () {
  "use strict";

  var button = document.getElementById("open-new-window");
  if (!button || !button.dataset.fullWindowLaunch) { return; }
  var message = JSON.parse(button.dataset.fullWindowLaunch);
  var lms = button.dataset.lms || "Your LMS";
  var status = document.getElementById("new-window-status");
  var fallback = document.getElementById("new-window-fallback");
  var WAIT_MS = 3000;
  var asked = false;
  var timer = null;

  function say(text) { status.textContent = text; }

  function noWindow() {
    clearTimeout(timer);
    say(lms + " did not open a new window.");
    fallback.hidden = false;
  }

  window.addEventListener("message", function (event) {
    if (!asked || event.source !== window.parent) { return; }
    var reply = event.data;
    if (typeof reply === "string") {
      try { reply = JSON.parse(reply); } catch (e) { return; }
    }
    if (!reply || reply.subject !== message.subject + ".response") { return; }
    if (reply.error) { noWindow(); return; }
    clearTimeout(timer);
    fallback.hidden = true;
    say(lms + " opened Microcred in a new window or tab: continue there.");
  });

  button.addEventListener("click", function () {
    if (!window.parent || window.parent === window) { noWindow(); return; }
    asked = true;
    clearTimeout(timer);
    say("Asking " + lms + " to open a new window…");
    timer = setTimeout(noWindow, WAIT_MS);
    window.parent.postMessage(message, "*");
  });
}());
