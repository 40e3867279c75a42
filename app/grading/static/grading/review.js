/* The review page: the judgement autosaves, and the reviewer always sees where it stands.
 *
 * A save goes ~1.5 s after a change (and when the page is hidden), quoting the draft's version;
 * a 409 means the review was saved from another tab, and autosave stops with a message rather
 * than overwrite it. A failed save is retried with backoff and a visible warning. The form's
 * buttons wait for a save in flight, so the decision is always made on what is on screen.
 * Without this script the form posts on its own ("Save draft", "Continue to the decision").
 */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 1500;
  var MAX_RETRY_MS = 30000;

  // A refused form (400) comes back with a summary of what to fix: take the reader there first.
  var problem = document.getElementById("review-error");
  if (problem) problem.focus();

  var root = document.getElementById("review");
  var form = document.getElementById("review-form");
  if (!root || !form || !root.dataset.review) return;

  var token = root.dataset.session;
  // A fresh token, from a save or from "Stay signed in" (lti/session.js).
  document.addEventListener("microcred:session", function (event) { token = event.detail.token; });
  var url = root.dataset.draftUrl;
  var reviewId = parseInt(root.dataset.review, 10);
  var versionField = form.querySelector("[data-version-field]");
  var status = form.querySelector("[data-review-status]");
  var announcer = form.querySelector("[data-review-announce]");
  var spoken = "";
  var spokenOutcome = "";
  var failing = false;
  var expires = document.querySelector("[data-expires] time");
  // Times are shown by the page's one formatter (core/static/moments.js, loaded first).
  var moments = window.MicrocredMoments;
  var timer = null;
  var inflight = null;
  var dirty = false;
  var blocked = false;
  var retryMs = 0;

  // The status line, shown as it changes (every keystroke, every save); a screen reader is
  // not told each change, or it would talk over the reviewer as they type.
  function say(text, failed) {
    if (status.textContent !== text) status.textContent = text;
    status.classList.toggle("failing", !!failed);
  }

  // What a reviewer must hear, said once: a save that failed (not each retry), the draft saved
  // again after that, and the rule's outcome when every criterion is judged or it changes.
  function announce(text) {
    if (!announcer || !text || text === spoken) return;
    spoken = text;
    announcer.textContent = text;
  }

  function localTime(iso) {
    return (moments && moments.format(iso, "time")) || "";
  }

  function judgement() {
    var criteria = {};
    var fieldsets = form.querySelectorAll("[data-criterion]");
    for (var i = 0; i < fieldsets.length; i++) {
      var key = fieldsets[i].dataset.criterion;
      var chosen = fieldsets[i].querySelector("input[type=radio]:checked");
      var comment = fieldsets[i].querySelector("textarea");
      criteria[key] = {
        met: chosen ? chosen.value === "met" : null,
        comment: comment ? comment.value : ""
      };
    }
    var feedback = form.querySelector("#feedback");
    return { criteria: criteria, feedback: feedback ? feedback.value : "" };
  }

  function save() {
    if (blocked) return Promise.resolve(false);
    if (inflight) return inflight.then(function () { return dirty ? save() : true; });
    clearTimeout(timer);
    dirty = false;
    var body = judgement();
    body.review = reviewId;
    body.version = parseInt(versionField.value, 10);
    say("Saving…");
    inflight = fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": "Bearer " + token
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        inflight = null;
        if (response.ok) {
          retryMs = 0;
          versionField.value = String(data.version);
          if (data.session) document.dispatchEvent(new CustomEvent("microcred:session", { detail: { token: data.session } }));
          if (expires && data.expires_at && moments) moments.set(expires, data.expires_at);
          var outcome = data.outcome === "earned" ? "earned" : "not yet";
          say("Draft saved at " + localTime(data.saved_at) + " · " + data.judged + " of " +
            data.total + " criteria judged" + (data.judged === data.total ?
              " · by the rule: " + outcome : ""));
          var news = [];
          if (failing) news.push("The draft is saved again.");
          var rule = "All " + data.total + " criteria judged. By the rule: " + outcome + ".";
          if (data.judged === data.total && rule !== spokenOutcome) {
            spokenOutcome = rule;
            news.push(rule);
          }
          failing = false;
          announce(news.join(" "));
          return true;
        }
        var message = (data.error && data.error.message) || "The draft was not saved.";
        var hint = (data.error && data.error.hint) || "";
        failing = true;
        if (response.status === 409 || response.status === 401 || response.status === 404) {
          blocked = true; // someone else's save, an ended session or a lost claim: stop
        }
        say("Not saved: " + message + " " + hint, true);
        announce("Not saved: " + message + " " + hint);
        return false;
      });
    }, function () {
      inflight = null;
      dirty = true;
      retryMs = Math.min(MAX_RETRY_MS, retryMs ? retryMs * 2 : 2000);
      say("Not saved yet: the connection failed. Trying again in " +
        Math.round(retryMs / 1000) + " s; keep this page open.", true);
      failing = true;
      announce("The draft is not saved: the connection failed. Microcred keeps trying; " +
        "keep this page open.");
      timer = setTimeout(save, retryMs);
      return false;
    });
    return inflight;
  }

  // A criterion flagged by a refused "Continue" loses its flag once it is judged (and, when
  // not yet, explained), so what is left to fix is what is still flagged.
  function settle(target) {
    var fieldset = target && target.closest ? target.closest(".criterion.field-has-error") : null;
    if (!fieldset) return;
    var chosen = fieldset.querySelector("input[type=radio]:checked");
    var comment = fieldset.querySelector("textarea");
    if (chosen && (chosen.value === "met" || (comment && comment.value.trim()))) {
      fieldset.classList.remove("field-has-error");
      if (!problem) return;
      var items = problem.querySelectorAll("li[data-for]");
      var left = 0;
      for (var i = 0; i < items.length; i++) {
        if (items[i].dataset.for === fieldset.dataset.criterion) items[i].hidden = true;
        if (!items[i].hidden) left++;
      }
      if (items.length && !left) problem.hidden = true;
    }
  }

  function changed(event) {
    settle(event && event.target);
    dirty = true;
    say("Unsaved changes…");
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  }

  form.addEventListener("input", changed);
  // A choice reports itself by "change"; a text field already did by "input", and its
  // "change" comes only when it loses focus: on the way to a button, where rewriting the
  // status would move the button under the pointer (a first click lost).
  form.addEventListener("change", function (event) {
    var type = event.target && event.target.type;
    if (type === "radio" || type === "checkbox") changed(event);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && dirty) save();
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty || inflight) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // The hold: from 5 minutes before it ends, a warning with a way to keep it (a save renews
  // it); checked every 15 s and when the page comes back into view.
  var HOLD_WARNING_MS = 5 * 60 * 1000;
  var warning = document.querySelector("[data-hold-warning]");
  function checkHold() {
    if (!warning || !expires) return;
    var ends = Date.parse(expires.getAttribute("datetime") || "");
    var left = ends - Date.now();
    if (blocked || isNaN(left) || left > HOLD_WARNING_MS) {
      warning.hidden = true;
      document.body.style.paddingBottom = "";
      return;
    }
    var at = localTime(expires.getAttribute("datetime"));
    var text = left > 0
      ? "Your hold on this submission ends at " + at + ". After that another assessor may " +
        "take it. Keep it to go on reviewing."
      : "Your hold on this submission ended at " + at + ". Keep it to go on reviewing: if " +
        "another assessor has taken it meanwhile, Microcred says so.";
    var line = warning.querySelector("[data-hold-text]");
    if (line.textContent !== text) line.textContent = text;
    warning.hidden = false;
    // The page's end (its buttons) can still be scrolled clear of the warning.
    document.body.style.paddingBottom = warning.offsetHeight + "px";
  }
  if (warning) {
    warning.querySelector("[data-hold-keep]").addEventListener("click", function () {
      save().then(checkHold);
    });
    setInterval(checkHold, 15000);
    document.addEventListener("visibilitychange", checkHold);
    checkHold();
  }

  var clicked = null;
  form.addEventListener("click", function (event) {
    if (event.target && event.target.name === "action") clicked = event.target.value;
  });
  form.addEventListener("submit", function (event) {
    if (!dirty && !inflight) return; // the form's version is current: post it as it is
    event.preventDefault();
    save().then(function (ok) {
      if (!ok) return;
      dirty = false;
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = clicked || "save";
      form.appendChild(action);
      form.submit();
    });
  });

  // On a slow laptop the reviewer can start before this (deferred) script: what they changed
  // meanwhile is unsaved work like any other.
  for (var i = 0; i < form.elements.length; i++) {
    var field = form.elements[i];
    var edited = field.type === "radio" || field.type === "checkbox" ?
      field.checked !== field.defaultChecked :
      field.tagName === "TEXTAREA" && field.value !== field.defaultValue;
    if (edited) { changed({ target: field }); break; }
  }

  root.dataset.autosave = "on"; // for tests and styles: the script is listening
})();
