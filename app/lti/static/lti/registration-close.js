// Dynamic Registration's last step: tell the LMS window that framed (or opened) this page to
// close it (LTI DR: {subject: "org.imsglobal.lti.close"}), posted to the platform's origins: the
// issuer's, the admin's page's and the registration endpoint's (hosted Canvas: the school's
// domain, not the issuer's host).
(function () {
  "use strict";
  var done = document.getElementById("registration-done");
  var button = document.getElementById("finish");
  var status = document.getElementById("finish-status");
  if (!done || !button) { return; }
  // The message carries no secret. The referrer of this page is our own consent page, so the
  // admin's page's origin comes from the server (the consent page's Referer, kept in its form).
  var origins = (done.getAttribute("data-platform-origins") || "").split(" ").filter(Boolean);
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
