/*
 * The development LMS's answer to requestFullWindowLaunch, as Canvas's web pages give it
 * (instructure/canvas-lms ui/shared/lti/jquery/subjects/requestFullWindowLaunch.ts; the message
 * is documented in doc/api/lti_window_post_message.md). A tool framed in the course page asks to
 * be launched again in a window of its own; the page opens the course's external_tools/retrieve
 * page there, which starts a fresh launch first-party. The tool's URL gets
 * platform_redirect_url and full_win_launch_requested=1, as Canvas adds them.
 *
 * Canvas loads each message's handler on its own (ui/shared/lti/jquery/messages.ts imports
 * subjects/<subject> lazily), so this one does not depend on the platform storage handler.
 * Every handled message is answered with "<subject>.response" (an error inside when it fails).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var RETRIEVE = script && script.dataset.retrieveUrl;
  var SUBJECT = "requestFullWindowLaunch";

  function parse(data) {
    var defaults = { display: "borderless", launchType: "same_window", launchOptions: {} };
    if (typeof data === "string") { return Object.assign({}, defaults, { url: data }); }
    if (data && typeof data === "object" && !Array.isArray(data) && typeof data.url === "string") {
      return Object.assign({}, defaults, data);
    }
    throw new Error("message must contain a `url` property");
  }

  function launchUrl(data) {
    var tool = new URL(data.url);
    var params = new URLSearchParams({ display: data.display });
    var clientId = tool.searchParams.get("client_id");
    tool.searchParams.append("platform_redirect_url", window.location.toString());
    tool.searchParams.append("full_win_launch_requested", "1");
    params.set("url", tool.toString());
    if (clientId) { params.set("client_id", clientId); }
    if (data.placement) { params.set("placement", data.placement); }
    if (data.resource_link_id) { params.set("resource_link_id", data.resource_link_id); }
    return new URL(RETRIEVE + "?" + params.toString(), window.location.href).toString();
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (typeof message === "string") {
      try { message = JSON.parse(message); } catch (e) { return; }
    }
    if (!message || (message.subject || message.messageType) !== SUBJECT) { return; }
    var reply = { subject: SUBJECT + ".response" };
    if (message.message_id) { reply.message_id = message.message_id; }
    try {
      var data = parse(message.data);
      var url = launchUrl(data);
      if (data.launchType === "new_window") {
        window.open(url, "newWindowLaunch");
      } else if (data.launchType === "popup") {
        var size = data.launchOptions || {};
        window.open(url, "popupLaunch", "toolbar=no,menubar=no,location=no,status=no,resizable," +
          "scrollbars,width=" + (size.width || 800) + ",height=" + (size.height || 600));
      } else if (data.launchType === "same_window") {
        window.location.assign(url);
      } else {
        throw new Error("unknown launchType, must be 'popup', 'new_window', 'same_window'");
      }
    } catch (error) {
      reply.error = { code: "error", message: String(error.message || error) };
    }
    if (event.source) { event.source.postMessage(reply, event.origin); }
  });
}());
