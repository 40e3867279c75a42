// Dynamic Registration's last step: tell the LMS window that framed (or opened) this page to
// close it (LTI DR: {subject: "org.imsglobal.lti.close"}), posted to the platform's origin.
(function () {
  "use strict";
  var done = document.getElementById("registration-done");
  var button = document.getElementById("finish");
  var status = document.getElementById("finish-status");
  if (!done || !button) { return; }
  var origins = [done.getAttribute("data-platform-origin")];
  try {
    // The page that framed us may live on another host than the issuer (a school's Canvas
    // domain); the referrer names it. The message carries no secret.
    var referrer = document.referrer && new URL(document.referrer).origin;
    if (referrer && origins.indexOf(referrer) < 0) { origins.push(referrer); }
  } catch (e) { /* no usable referrer */ }
  button.addEventListener("click", function () {
    var targets = [window.parent !== window ? window.parent : null, window.opener];
    var sent = false;
    targets.forEach(function (target) {
      if (!target) { return; }
      origins.forEach(function (origin) {
        if (!origin) { return; }
        try { target.postMessage({ subject: "org.imsglobal.lti.close" }, origin); sent = true; }
        catch (e) { /* a closed or foreign window */ }
      });
    });
    status.textContent = sent
      ? "Done. If this window stays open, you can close it."
      : "Done. You can close this window and return to your LMS.";
  });
})();
