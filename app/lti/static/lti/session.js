/* A launch's session on a page left open: warned before it lapses, renewed with one click
 * (issue 28 item 15; WCAG 2.2.1 Timing Adjustable).
 *
 * A page's links, forms and scripts carry the session token it was given; a token lasts
 * data-session-seconds (two hours) from when it was issued, and every autosave gives the page a
 * fresh one. So a person who reads or types without saving for nearly two hours is warned five
 * minutes before: "Stay signed in" asks /api/session/refresh for a fresh token, and every link,
 * form and script of the page takes it. Any fresh token — this one's or an autosave's — is
 * announced as a "microcred:session" event on the document, which the page's scripts
 * (workspace.js, review.js, upload.js) send and listen to; it moves the warning two hours on.
 * When the time has passed anyway, the banner says what to do: open the activity again from the
 * course, where nothing saved is lost (the workspace keeps unsaved text in this browser and
 * restores it).
 *
 * The banner is fixed to the bottom of the frame, where it is seen wherever the page is
 * scrolled, and is spoken once (role=alert); it takes no focus from what the person is typing.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var token = script.getAttribute("data-session");
  var param = script.getAttribute("data-param") || "lt";
  var lifetimeMs = parseInt(script.getAttribute("data-session-seconds"), 10) * 1000;
  var refreshUrl = script.getAttribute("data-refresh-url");
  if (!token || !refreshUrl || !(lifetimeMs > 0)) { return; }
  var WARN_BEFORE_MS = 5 * 60 * 1000;
  var moments = window.MicrocredMoments;

  var banner = null;
  var warnTimer = null;
  var endTimer = null;
  var endsAt = 0;

  function clock(when) {
    var iso = new Date(when).toISOString();
    return (moments && moments.format(iso, "time")) || new Date(when).toLocaleTimeString();
  }

  function show(parts) {
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "session-lapse warning";
      banner.id = "session-lapse";
      banner.setAttribute("role", "alert");
      document.body.appendChild(banner);
    }
    banner.textContent = "";
    parts.forEach(function (part) { banner.appendChild(part); });
    banner.hidden = false;
    // Room below the page's end, so that the banner covers none of it.
    document.body.style.paddingBottom = banner.offsetHeight + "px";
  }

  function paragraph(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  function hide() {
    if (banner) { banner.hidden = true; }
    document.body.style.paddingBottom = "";
  }

  function warn() {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Stay signed in";
    button.addEventListener("click", function () { renew(button); });
    show([
      paragraph("Your Microcred session ends at " + clock(endsAt) + " unless you stay " +
        "signed in. Anything saved is kept either way."),
      button,
    ]);
  }

  function ended() {
    show([paragraph("Your Microcred session has ended. Open the activity again from your " +
      "course page: nothing you saved is lost.")]);
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    endsAt = Date.now() + lifetimeMs;
    warnTimer = setTimeout(warn, Math.max(0, lifetimeMs - WARN_BEFORE_MS));
    endTimer = setTimeout(ended, lifetimeMs);
  }

  function renew(button) {
    button.disabled = true;
    fetch(refreshUrl, {
      method: "POST",
      headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
      credentials: "omit",
    }).then(function (response) {
      if (!response.ok) { throw response; }
      return response.json();
    }).then(function (data) {
      if (typeof data.token !== "string" || !data.token) { throw new Error("no token"); }
      document.dispatchEvent(new CustomEvent("microcred:session", { detail: { token: data.token } }));
      show([paragraph("You are still signed in, until " + clock(endsAt) + " at least.")]);
      setTimeout(hide, 8000);
    }).catch(function () {
      ended();
    });
  }

  // Every link, form and script of the page that carries the old token takes the fresh one.
  function replace(old, fresh) {
    Array.prototype.forEach.call(document.querySelectorAll("a[href]"), function (a) {
      var url;
      try { url = new URL(a.getAttribute("href"), window.location.href); } catch (e) { return; }
      if (url.origin !== window.location.origin || url.searchParams.get(param) !== old) { return; }
      url.searchParams.set(param, fresh);
      a.setAttribute("href", url.pathname + url.search + url.hash);
    });
    Array.prototype.forEach.call(
      document.querySelectorAll("input[type=hidden][name='" + param + "']"),
      function (input) { if (input.value === old) { input.value = fresh; } }
    );
    Array.prototype.forEach.call(document.querySelectorAll("[data-session]"), function (el) {
      if (el.getAttribute("data-session") === old) { el.setAttribute("data-session", fresh); }
    });
    // The page's own address, for a reload.
    var here = new URL(window.location.href);
    if (here.searchParams.get(param) === old && window.history && window.history.replaceState) {
      here.searchParams.set(param, fresh);
      window.history.replaceState(window.history.state, "", here.pathname + here.search + here.hash);
    }
  }

  document.addEventListener("microcred:session", function (event) {
    var fresh = event.detail && event.detail.token;
    if (typeof fresh !== "string" || !fresh) { return; }
    // A token issued within the same second is the same token: still two hours from now.
    if (fresh !== token) {
      replace(token, fresh);
      token = fresh;
    }
    schedule();
    if (banner && !banner.hidden && !banner.querySelector("button:disabled")) { hide(); }
  });

  schedule();
})();
