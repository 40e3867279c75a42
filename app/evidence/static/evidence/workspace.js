/* The evidence workspace: autosave of text answers without losing a word.
 *
 * Each answer is saved ~2 s after typing stops, when its field loses focus, and when the page is
 * hidden or left. Every save quotes the version it was written from; a 409 means another tab
 * saved in between, and both texts are shown (never a silent overwrite). Until the server has a
 * text, it is kept in this browser's localStorage (by attempt, part and version): a failed save
 * is retried with backoff and a visible warning, and a reload restores what was not saved yet.
 * A save whose answer never came may still have been stored (the server, or its database, went
 * away after storing it): the retry's 409 then names this tab's own text, which is taken as
 * saved, not shown as another tab's.
 * The forms post on their own when this script does not run.
 */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 2000;
  var MAX_RETRY_MS = 30000;
  var KEEPALIVE_MAX_BYTES = 60000; // browsers cap keepalive bodies at 64 KiB
  var SEPARATOR = "\n\n— — — text from another tab — — —\n\n";

  // Times are shown by the page's one formatter (core/static/moments.js, loaded first).
  var moments = window.MicrocredMoments;

  function countWords(text) {
    var count = 0;
    var tokens = text.split(/\s+/);
    for (var i = 0; i < tokens.length; i++) {
      if (/[\p{L}\p{N}_]/u.test(tokens[i])) count++;
    }
    return count;
  }

  function storage() {
    try {
      var probe = "microcred:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // blocked (e.g. some third-party iframes): saving still works, just no copy
    }
  }

  var root = document.getElementById("workspace");
  if (!root || !root.dataset.attempt) return;

  var attemptId = root.dataset.attempt;
  // Each tab keeps its own copy, so one tab's save never discards another tab's unsaved text;
  // sessionStorage keeps the tab's name across a reload of that tab.
  var tabId = (function () {
    try {
      var id = window.sessionStorage.getItem("microcred:tab");
      if (!id) {
        id = Math.random().toString(36).slice(2, 10);
        window.sessionStorage.setItem("microcred:tab", id);
      }
      return id;
    } catch (e) {
      return Math.random().toString(36).slice(2, 10);
    }
  })();
  var token = root.dataset.session;
  // A fresh token, from a save or from "Stay signed in" (lti/session.js).
  document.addEventListener("microcred:session", function (event) { token = event.detail.token; });
  var store = storage();
  var answers = [];

  function Answer(form) {
    this.form = form;
    this.part = form.dataset.part;
    this.url = form.dataset.url;
    this.limit = parseInt(form.dataset.limit || "0", 10);
    this.area = form.querySelector("textarea");
    this.versionField = form.querySelector("input[name=version]");
    this.version = parseInt(this.versionField.value || "0", 10);
    // What the server has is what it rendered: on a slow laptop typing can start before this
    // (deferred) script does, and that text must still be kept and saved.
    this.saved = this.area.defaultValue;
    this.count = document.getElementById("count-" + this.part);
    this.state = document.getElementById("save-" + this.part);
    this.status = document.getElementById("status-" + this.part);
    this.conflictPanel = document.getElementById("conflict-" + this.part);
    this.restoredNotice = document.getElementById("restored-" + this.part);
    this.timer = null;
    this.inflight = false;
    this.retryMs = 0;
    // Texts sent from the current version whose answer never came: any of them may be stored.
    this.unanswered = [];
    this.blocked = false; // a conflict or an ended session: no more autosave until resolved
    this.prefix = "microcred:draft:" + attemptId + ":" + this.part + ":";
    var self = this;
    this.area.addEventListener("input", function () {
      self.updateCount();
      self.keep();
      self.schedule(SAVE_DELAY_MS);
    });
    this.area.addEventListener("blur", function () { self.saveNow(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.saveNow(false);
    });
    this.bindConflictChoices();
    this.updateCount();
    this.restore();
    if (!this.blocked && !this.inflight && this.area.value !== this.saved) {
      this.keep();
      this.schedule(SAVE_DELAY_MS);
    }
  }

  Answer.prototype.updateCount = function () {
    var words = countWords(this.area.value);
    var over = this.limit > 0 && words > this.limit;
    var text = words + (words === 1 ? " word" : " words");
    if (this.limit > 0) text += " of " + this.limit;
    if (over) text += " — over the limit; shorten it to submit";
    this.count.textContent = text;
    this.count.classList.toggle("over", over);
    if (this.status) {
      this.status.dataset.words = String(words);
      refreshStatus(this.status);
    }
  };

  Answer.prototype.say = function (html, failing) {
    this.state.innerHTML = "";
    this.state.appendChild(html);
    this.state.classList.toggle("failing", !!failing);
  };

  Answer.prototype.sayText = function (text, failing) {
    this.say(document.createTextNode(text), failing);
  };

  Answer.prototype.saySaved = function (iso) {
    var span = document.createElement("span");
    span.appendChild(document.createTextNode("Saved "));
    var when = document.createElement("time");
    if (moments && iso) {
      moments.set(when, iso, "datetime");
    } else {
      when.textContent = "just now";
    }
    span.appendChild(when);
    this.say(span, false);
  };

  /* The browser's copy: kept from the first keystroke until the server has the text. */
  Answer.prototype.keep = function () {
    if (!store) return;
    try {
      this.forget();
      store.setItem(this.prefix + this.version + ":" + tabId,
        JSON.stringify({ text: this.area.value, at: new Date().toISOString() }));
    } catch (e) { /* storage full: the server save still runs */ }
  };

  /* Drop this tab's copy (``key``: one restored from another tab, once saved). */
  Answer.prototype.forget = function (key) {
    if (!store) return;
    if (key) { store.removeItem(key); return; }
    for (var i = store.length - 1; i >= 0; i--) {
      var found = store.key(i);
      if (found && found.indexOf(this.prefix) === 0 &&
          found.slice(found.lastIndexOf(":") + 1) === tabId) store.removeItem(found);
    }
  };

  Answer.prototype.restore = function () {
    if (!store) return;
    // This tab's own copy first (a reload); else the latest left by a tab that is gone.
    var newest = null;
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (!key || key.indexOf(this.prefix) !== 0) continue;
      var rest = key.slice(this.prefix.length).split(":");
      var kept;
      try { kept = JSON.parse(store.getItem(key)); } catch (e) { continue; }
      if (!kept || typeof kept.text !== "string") continue;
      var candidate = { key: key, version: parseInt(rest[0], 10), text: kept.text,
                        at: kept.at || "", own: rest[1] === tabId };
      if (!newest || (candidate.own && !newest.own) ||
          (candidate.own === newest.own && candidate.at > newest.at)) newest = candidate;
    }
    if (!newest) return;
    if (newest.text === this.area.value) { this.forget(newest.key); return; }
    if (newest.version === this.version) {
      this.area.value = newest.text;
      this.keep(); // now this tab's copy, until the save below lands
      if (!newest.own) this.forget(newest.key);
      this.updateCount();
      this.restoredNotice.textContent = "This browser had kept text that had not reached " +
        "Microcred yet; it is back in the box below and is being saved now.";
      this.restoredNotice.hidden = false;
      this.saveNow(false);
    } else {
      // Saved elsewhere since this browser kept its copy: show both, as a 409 would; the copy
      // stays until a choice is saved.
      this.restoredKey = newest.key;
      this.showConflict(newest.text, this.area.value, this.version);
    }
  };

  Answer.prototype.schedule = function (ms) {
    if (this.blocked) return;
    var self = this;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.timer = null; self.saveNow(false); }, ms);
  };

  Answer.prototype.saveNow = function (leaving) {
    if (this.blocked) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    var text = this.area.value;
    if (text === this.saved) return;
    // One save at a time, so each quotes the version the last one returned; what is typed
    // meanwhile is in the browser's copy and goes with the next save (or the next visit).
    if (this.inflight) { this.again = true; return; }
    this.send(text, this.version, leaving);
  };

  Answer.prototype.send = function (text, version, leaving) {
    var self = this;
    var body = JSON.stringify({ text: text, version: version });
    this.inflight = true;
    if (!leaving) this.sayText("Saving…", false);
    var request;
    try {
      request = fetch(this.url, {
        method: "PUT",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "Authorization": "Bearer " + token
        },
        body: body,
        credentials: "omit",
        keepalive: leaving && body.length < KEEPALIVE_MAX_BYTES
      });
    } catch (e) {
      request = Promise.reject(e);
    }
    request.then(function (response) {
      return response.json().then(
        function (data) { return { status: response.status, data: data }; },
        function () { return { status: response.status, data: {} }; });
    }).then(function (result) {
      self.inflight = false;
      self.handle(result.status, result.data, text);
    }, function () {
      self.inflight = false;
      self.unanswered.push(text);
      self.retry("Not saved yet — retrying. Your text is kept in this browser.");
    });
  };

  Answer.prototype.handle = function (status, data, text) {
    if (status === 200) {
      this.retryMs = 0;
      this.unanswered = [];
      this.version = data.version;
      this.versionField.value = String(data.version);
      this.saved = text;
      if (data.session) document.dispatchEvent(new CustomEvent("microcred:session", { detail: { token: data.session } }));
      this.forget();
      this.again = false;
      if (this.area.value !== text) {
        this.keep();
        this.schedule(SAVE_DELAY_MS);
      }
      this.saySaved(data.saved_at);
      var last = document.querySelector("#state time");
      if (last && data.changed && moments) moments.set(last, data.saved_at);
      return;
    }
    if (status === 409 && typeof data.server_text === "string") {
      if (data.server_version === this.version + 1 &&
          this.unanswered.indexOf(data.server_text) >= 0) {
        this.landed(data.server_text, data.server_version);
        return;
      }
      this.showConflict(this.area.value, data.server_text, data.server_version);
      return;
    }
    var error = data.error || {};
    if (status === 401) {
      this.blocked = true;
      this.sayText("Not saved: your Microcred session has ended. Your text is kept in this " +
        "browser — open this activity again from your course and it will be saved.", true);
      return;
    }
    if (status >= 400 && status < 500) {
      this.blocked = status === 409; // locked: submitted elsewhere
      this.sayText("Not saved: " + (error.message || "Microcred refused this save.") +
        (error.hint ? " " + error.hint : ""), true);
      return;
    }
    if (status >= 500) this.unanswered.push(text);
    this.retry("Not saved yet — retrying. Your text is kept in this browser.");
  };

  /* A save of this tab's was stored though its answer never came: carry on from it. */
  Answer.prototype.landed = function (text, version) {
    this.unanswered = [];
    this.retryMs = 0;
    this.version = version;
    this.versionField.value = String(version);
    this.saved = text;
    if (this.area.value === text) {
      this.forget();
      this.saySaved(null);
      return;
    }
    this.keep();
    this.saveNow(false);
  };

  Answer.prototype.retry = function (message) {
    this.retryMs = Math.min(this.retryMs ? this.retryMs * 2 : 2000, MAX_RETRY_MS);
    this.sayText(message, true);
    this.keep();
    this.schedule(this.retryMs);
  };

  /* Both texts side by side; the choice is saved against the server's version. */
  Answer.prototype.showConflict = function (mine, theirs, serverVersion) {
    this.blocked = true;
    this.conflict = { mine: mine, theirs: theirs, version: serverVersion };
    document.getElementById("mine-" + this.part).value = mine;
    document.getElementById("theirs-" + this.part).value = theirs;
    this.conflictPanel.hidden = false;
    this.sayText("Not saved: this answer was changed somewhere else. Choose what to keep below.",
      true);
    this.conflictPanel.querySelector("h3").setAttribute("tabindex", "-1");
    this.conflictPanel.querySelector("h3").focus();
  };

  Answer.prototype.bindConflictChoices = function () {
    var self = this;
    var forms = this.conflictPanel.querySelectorAll("form.conflict-choice");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (event) {
        event.preventDefault();
        self.resolve(event.currentTarget.dataset.choice);
      });
    }
  };

  Answer.prototype.resolve = function (choice) {
    var c = this.conflict;
    if (!c) return;
    this.conflict = null;
    this.blocked = false;
    this.conflictPanel.hidden = true;
    this.version = c.version;
    this.versionField.value = String(c.version);
    this.saved = c.theirs;
    this.forget();
    if (this.restoredKey) { this.forget(this.restoredKey); this.restoredKey = null; }
    var text = choice === "both" ? c.theirs + SEPARATOR + c.mine
      : choice === "mine" ? c.mine : c.theirs;
    this.area.value = text;
    this.updateCount();
    this.area.focus();
    if (text !== c.theirs) {
      this.keep();
      this.saveNow(false);
    } else {
      this.sayText("Kept the text saved elsewhere.", false);
    }
  };

  var STATUS_LABELS = { empty: "Nothing yet", in_progress: "In progress", ready: "Ready",
                        over_limit: "Over the word limit" };

  // A part's status as services.part_status decides it, from what the page now holds: this
  // tab's words, the links, the complete files and the unfinished uploads.
  function refreshStatus(el) {
    var accepts = (el.dataset.accepts || "").split(" ");
    var words = parseInt(el.dataset.words || "0", 10);
    var limit = parseInt(el.dataset.limit || "0", 10);
    var links = parseInt(el.dataset.links || "0", 10);
    var files = parseInt(el.dataset.files || "0", 10);
    var unfinished = parseInt(el.dataset.unfinished || "0", 10) > 0;
    var over = limit > 0 && words > limit;
    var evidence = (accepts.indexOf("text") >= 0 && words > 0)
      || (accepts.indexOf("link") >= 0 && links > 0)
      || (accepts.indexOf("file") >= 0 && files > 0);
    var status = over ? "over_limit"
      : evidence && !unfinished ? "ready"
      : evidence || unfinished || words > 0 ? "in_progress" : "empty";
    el.className = "part-status status-" + status;
    el.dataset.status = status;
    el.textContent = STATUS_LABELS[status];
    var part = el.dataset.part;
    var items = document.querySelectorAll('#checklist li[data-part="' + part + '"]');
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      if (item.dataset.kind === "over") {
        item.hidden = !over;
        if (over) {
          item.textContent = "\u201c" + item.dataset.title + "\u201d has " + words
            + " words; the limit is " + limit + ". Shorten it to submit.";
        }
      } else {
        item.hidden = evidence || over;
      }
    }
    refreshChecklist();
  }

  function refreshChecklist() {
    var box = document.getElementById("checklist");
    if (!box) return;
    var open = box.querySelectorAll("li[data-part]:not([hidden])").length > 0;
    var list = box.querySelector("[data-checklist-open]");
    var done = box.querySelector("[data-checklist-done]");
    if (list) list.hidden = !open;
    if (done) done.hidden = open;
  }

  // The files control (upload.js) says when a part's files change.
  document.addEventListener("microcred:files-changed", function (event) {
    var el = document.getElementById("status-" + event.detail.part);
    if (!el) return;
    el.dataset.files = String(event.detail.complete);
    el.dataset.unfinished = String(event.detail.unfinished);
    refreshStatus(el);
  });

  var forms = root.querySelectorAll("form.answer-form");
  for (var i = 0; i < forms.length; i++) answers.push(new Answer(forms[i]));

  function flushAll() {
    for (var i = 0; i < answers.length; i++) answers[i].saveNow(true);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flushAll();
  });
  window.addEventListener("pagehide", flushAll);

  // "Add the link" and "Start attempt N" are sent from this page: a refusal comes back as the
  // form with its message, which takes the refused form's place with the focus on the field to
  // fix. (A page that reloads inside the LMS's cross-origin frame may not take the focus:
  // Chromium blocks it. Without script the form's address still brings it into view.)
  function sendHere(event) {
    var form = event.currentTarget;
    if (form.dataset.sending) { event.preventDefault(); return; }
    event.preventDefault();
    form.dataset.sending = "1";
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) {  // done: the workspace again, at the part if any (fetch drops the #)
          var target = response.url.split("#")[0];
          var hash = form.elements.part ? "#part-" + form.elements.part.value : "";
          if (target === window.location.href.split("#")[0]) {
            // The same address: assigning it would only move to the #, not load the page.
            if (hash) window.location.hash = hash;
            window.location.reload();
          } else {
            window.location.assign(target + hash);
          }
          return null;
        }
        return response.text().then(function (html) {
          var answer = new DOMParser().parseFromString(html, "text/html");
          var returned = form.id && answer.getElementById(form.id);
          if (!returned) { form.submit(); return; }  // not the form's answer: show it as sent
          var fresh = document.importNode(returned, true);
          form.parentNode.replaceChild(fresh, form);
          fresh.addEventListener("submit", sendHere);
          var field = fresh.querySelector("[aria-invalid=true]") || fresh.querySelector("input[type=url], textarea");
          if (field) field.focus();
        });
      }, function () {
        delete form.dataset.sending;
        form.submit();  // the connection failed: let the browser try and say so
      });
  }
  var sentHere = document.querySelectorAll("form.link-form, form.next-attempt");
  for (var k = 0; k < sentHere.length; k++) sentHere[k].addEventListener("submit", sendHere);

  // Without the script's help (a reload), the refused field takes the focus where it can.
  var refused = document.querySelector("#workspace [aria-invalid=true]");
  if (refused) refused.focus();
  root.setAttribute("data-autosave", "on");
})();
