/*
 * The development LMS's platform storage, answered by the course page as Canvas's does (LTI
 * client-side postMessage storage: lti.capabilities, lti.put_data, lti.get_data). Tools reach it
 * through the post_message_forwarding frame on the authorization host, which is the only
 * origin heard here. Values are kept per tool origin in this page's localStorage with no expiry
 * (ui/shared/lti/jquery/subjects/lti.put_data.ts); a key never stored is value: null; a value
 * over 4096 characters or a 501st key per tool origin is refused as Canvas refuses them.
 */
(function () {
  "use strict";
  var frame = document.querySelector("iframe[name=post_message_forwarding]");
  if (!frame) { return; }
  var forwarder = new URL(frame.src).origin;
  var MAX_VALUE_LENGTH = 4096;
  var MAX_KEYS = 500;
  var PREFIX = "lti|platform_storage|";
  var SUPPORTED = [
    { subject: "lti.capabilities" },
    { subject: "lti.put_data", frame: "post_message_forwarding" },
    { subject: "lti.get_data", frame: "post_message_forwarding" }
  ];

  function slot(origin, key) { return PREFIX + origin + "|" + key; }

  function keysOf(origin) {
    var count = 0;
    for (var i = 0; i < window.localStorage.length; i++) {
      if (window.localStorage.key(i).indexOf(PREFIX + origin + "|") === 0) { count++; }
    }
    return count;
  }

  function error(code, message) { return { code: code, message: message }; }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (event.origin !== forwarder || !message || !message.sourceToolInfo) { return; }
    if (typeof message.subject !== "string" || message.subject.indexOf("lti.") !== 0) { return; }
    var tool = message.sourceToolInfo.origin;
    var reply = {
      subject: message.subject + ".response",
      message_id: message.message_id,
      sourceToolInfo: message.sourceToolInfo
    };
    if (message.subject === "lti.capabilities") {
      reply.supported_messages = SUPPORTED;
    } else if (message.subject !== "lti.put_data" && message.subject !== "lti.get_data") {
      reply.error = error("unsupported_subject", "Not supported: " + message.subject);
    } else if (typeof message.key !== "string" || !message.key) {
      reply.error = error("bad_request", "Missing required key");
    } else if (message.subject === "lti.get_data") {
      reply.key = message.key;
      reply.value = window.localStorage.getItem(slot(tool, message.key));
    } else {
      var name = slot(tool, message.key);
      reply.key = message.key;
      if (!message.value) {  // Canvas clears a key put without a value (null, "", …)
        window.localStorage.removeItem(name);
      } else if (String(message.value).length > MAX_VALUE_LENGTH) {
        reply.error = error("storage_exhaustion",
          "Value is larger than " + MAX_VALUE_LENGTH + " characters");
      } else if (window.localStorage.getItem(name) === null && keysOf(tool) >= MAX_KEYS) {
        reply.error = error("storage_exhaustion",
          "Reached the maximum of " + MAX_KEYS + " keys for this origin");
      } else {
        window.localStorage.setItem(name, String(message.value));
        reply.value = String(message.value);
      }
    }
    event.source.postMessage(reply, forwarder);
  });
}());
