/*
 * Microcred launch bridge: proves, without third-party cookies, that the browser finishing an
 * LTI launch is the one that started it.
 *
 * Login page (data-step="login"): keep a one-time secret for this sign-in in the frame's own
 * sessionStorage (partitioned per top-level site, so it works where cookies are blocked) and,
 * when the LMS offers it, in the LMS's platform storage (LTI client-side postMessage storage:
 * lti.capabilities, lti.put_data), then go on to the LMS's authorisation endpoint.
 *
 * Launch page (data-step="launch"): read the secret back (lti.get_data, then clear it with
 * lti.put_data without a value; else sessionStorage) and post it to the tool, which compares it
 * with what it kept at login.
 *
 * Platform storage messages time out after 4 s, for an LMS whose page announces storage but
 * never answers (Canvas loads each message's handler lazily, which a slow school laptop under
 * load can take seconds to do; its mobile apps announce no storage at all), and answers are
 * only accepted from the LMS's origin. The first message, lti.capabilities, is sent again every
 * 400 ms until answered: the course page loads its storage frame beside the tool's, and a
 * message that reaches it before its script listens is lost (one lost message left a Canvas
 * launch with no proof: "needs its own window"). Only this one is repeated: it changes nothing,
 * and once it is answered the frame is listening.
 */
(function () {
  "use strict";

  var root = document.getElementById("launch-bridge");
  if (!root) { return; }
  var data = root.dataset;
  var TIMEOUT_MS = 4000;
  var RESEND_MS = 400;
  var KEY = "microcred_state_" + data.state;

  function storageFrame() {
    if (!data.storageTarget || !window.parent || window.parent === window) { return null; }
    if (data.storageTarget === "_parent") { return window.parent; }
    try { return window.parent.frames[data.storageTarget] || null; } catch (e) { return null; }
  }

  function ask(frame, message) {
    return new Promise(function (resolve) {
      var id = Math.random().toString(36).slice(2) + Date.now().toString(36);
      message.message_id = id;
      var timer = setTimeout(function () { finish(null); }, TIMEOUT_MS);
      var resend = message.subject === "lti.capabilities" ? setInterval(send, RESEND_MS) : null;
      function send() {
        try { frame.postMessage(message, data.storageOrigin); } catch (e) { finish(null); }
      }
      function finish(value) {
        clearTimeout(timer);
        if (resend !== null) { clearInterval(resend); }
        window.removeEventListener("message", listen);
        resolve(value);
      }
      function listen(event) {
        if (event.origin !== data.storageOrigin) { return; }
        var reply = event.data;
        if (!reply || reply.message_id !== id || reply.subject !== message.subject + ".response") { return; }
        finish(reply.error ? null : reply);
      }
      window.addEventListener("message", listen);
      send();
    });
  }

  function platformStorage() {
    var frame = storageFrame();
    if (!frame) { return Promise.resolve(null); }
    return ask(frame, { subject: "lti.capabilities" }).then(function (reply) {
      var supported = (reply && reply.supported_messages) || [];
      var names = supported.map(function (m) { return m.subject; });
      return names.indexOf("lti.put_data") >= 0 && names.indexOf("lti.get_data") >= 0 ? frame : null;
    });
  }

  function sessionStore(value) {
    try {
      if (value === undefined) { return window.sessionStorage.getItem(KEY); }
      window.sessionStorage.setItem(KEY, value);
      return value;
    } catch (e) { return null; }
  }

  function say(text) {
    var status = document.getElementById("bridge-status");
    if (status) { status.textContent = text; }
  }

  function login() {
    sessionStore(data.proof);
    platformStorage().then(function (frame) {
      if (!frame) { return null; }
      return ask(frame, { subject: "lti.put_data", key: KEY, value: data.proof });
    }).then(function () {
      say("Signing you in…");
      window.location.replace(data.next);
    });
  }

  function launch() {
    var form = document.getElementById("bridge-form");
    platformStorage().then(function (frame) {
      if (!frame) { return null; }
      return ask(frame, { subject: "lti.get_data", key: KEY }).then(function (reply) {
        if (!reply || typeof reply.value !== "string") { return reply; }
        // The LMS keeps what a tool puts with no expiry (Canvas: the course page's
        // localStorage): the proof is single use, so clear it (put_data without a value).
        return ask(frame, { subject: "lti.put_data", key: KEY, value: null }).then(function () {
          return reply;
        });
      });
    }).then(function (reply) {
      var fromPlatform = reply && typeof reply.value === "string" ? reply.value : "";
      var fromSession = fromPlatform ? "" : (sessionStore() || "");
      form.elements.proof.value = fromPlatform || fromSession;
      form.elements.method.value = fromPlatform ? "platform_storage" : (fromSession ? "session_storage" : "");
      form.submit();
    });
  }

  if (data.step === "login") { login(); } else if (data.step === "launch") { launch(); }
}());
