/*
 * The development LMS's platform storage, as Canvas offers it to tools in its iframes (LTI
 * client-side postMessage storage: lti.capabilities, lti.put_data, lti.get_data). Values are
 * kept per tool origin for the life of this page, and answers go only to the asking origin.
 */
(function () {
  "use strict";
  var values = {};
  var SUPPORTED = [
    { subject: "lti.capabilities" }, { subject: "lti.put_data" }, { subject: "lti.get_data" }
  ];

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || typeof message.subject !== "string" || message.subject.indexOf("lti.") !== 0) {
      return;
    }
    var reply = { subject: message.subject + ".response", message_id: message.message_id };
    var slot = event.origin + " " + message.key;
    if (message.subject === "lti.capabilities") {
      reply.supported_messages = SUPPORTED;
    } else if (message.subject === "lti.put_data" && typeof message.key === "string") {
      values[slot] = message.value;
      reply.key = message.key;
      reply.value = message.value;
    } else if (message.subject === "lti.get_data" && typeof message.key === "string") {
      reply.key = message.key;
      if (Object.prototype.hasOwnProperty.call(values, slot)) {
        reply.value = values[slot];
      } else {
        reply.error = { code: "not_found", message: "No value stored under this key." };
      }
    } else {
      reply.error = { code: "unsupported_subject", message: "Not supported: " + message.subject };
    }
    event.source.postMessage(reply, event.origin);
  });
}());
