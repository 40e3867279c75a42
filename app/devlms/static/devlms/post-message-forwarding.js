/*
 * Canvas's post_message_forwarding frame, as the development LMS serves it: a hidden frame on
 * the authorization (sso) host beside the tool's iframe. A message from a tool goes up to the
 * course page (the top window, on the school's host) with the tool's origin and a window number
 * attached; the course page's answer comes back here and goes on to that tool window, so the
 * tool sees every answer come from this frame's origin (Canvas's
 * public/javascripts/lti_post_message_forwarding.js).
 */
(function () {
  "use strict";
  var parentOrigin = document.documentElement.dataset.parentOrigin;
  var listenAfter = parseInt(document.documentElement.dataset.listenAfterMs || "0", 10);
  var tools = [];

  function listen(event) {
    var message = event.data;
    if (typeof message === "string") {
      try { message = JSON.parse(message); } catch (e) { return; }
    }
    if (!message || typeof message !== "object") { return; }
    if (event.origin === parentOrigin) {
      var info = message.sourceToolInfo;
      if (!info) { return; }
      var answer = {};
      for (var name in message) {
        if (name !== "sourceToolInfo") { answer[name] = message[name]; }
      }
      var target = tools[info.windowId];
      if (target) { target.postMessage(answer, info.origin); }
      return;
    }
    var windowId = tools.indexOf(event.source);
    if (windowId === -1) { tools.push(event.source); windowId = tools.length - 1; }
    var forwarded = {};
    for (var key in message) { forwarded[key] = message[key]; }
    forwarded.sourceToolInfo = { origin: event.origin, windowId: windowId };
    window.top.postMessage(forwarded, parentOrigin);
  }

  // A message that arrives before this listens is lost, as in a browser that has not run the
  // frame's script yet (the development LMS can make that moment last: listen_after_ms).
  if (listenAfter > 0) {
    setTimeout(function () { window.addEventListener("message", listen); }, listenAfter);
  } else {
    window.addEventListener("message", listen);
  }
}());
