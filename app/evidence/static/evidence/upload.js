/* Evidence files: chunked, resumable uploads with progress and cancel; removal with
 * confirmation. Enhances the plain form of evidence/_files.html (which works without this
 * script). The server decides everything (type, size, offsets); this only sends and shows.
 *
 * Resume: each chunk quotes its offset; after a network error the script waits, asks the
 * server how much arrived and continues from there. An upload interrupted by a reload is
 * remembered in localStorage (by name, size and modification time), so choosing the same file
 * again continues it. */
(function () {
  "use strict";
  if (window.microcredEvidenceFiles) { return; } // the partial may appear once per part
  window.microcredEvidenceFiles = true;

  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000, 30000];
  var token = null;

  function remember(response) {
    if (response && response.session) {
      document.dispatchEvent(new CustomEvent("microcred:session", { detail: { token: response.session } }));
    }
  }
  // A fresh token, from any save or from "Stay signed in" (lti/session.js).
  document.addEventListener("microcred:session", function (event) { token = event.detail.token; });

  function request(method, url, body, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.setRequestHeader("Accept", "application/json");
      if (body !== null && !(body instanceof Blob)) {
        xhr.setRequestHeader("Content-Type", "application/json");
        body = JSON.stringify(body);
      } else if (body instanceof Blob) {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) { onProgress(event.loaded); });
      }
      xhr.addEventListener("load", function () {
        var json = null;
        try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
        remember(json);
        resolve({ status: xhr.status, json: json, xhr: xhr });
      });
      xhr.addEventListener("error", function () { resolve({ status: 0, json: null, xhr: xhr }); });
      xhr.addEventListener("abort", function () { resolve({ status: -1, json: null, xhr: xhr }); });
      xhr.send(body);
      request.current = xhr;
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function errorText(answer, fallback) {
    var error = answer.json && answer.json.error;
    if (!error) { return fallback; }
    return error.message + (error.hint ? " " + error.hint : "");
  }

  function humanSize(bytes) {
    // As the server says it (files.human_size): binary multiples, the usual names.
    var units = [["GB", 1073741824], ["MB", 1048576], ["KB", 1024]];
    for (var i = 0; i < units.length; i++) {
      if (bytes >= units[i][1]) {
        var value = bytes / units[i][1];
        return (value >= 10 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, "")) + " " + units[i][0];
      }
    }
    return bytes + " bytes";
  }

  function memoryKey(startUrl, file) {
    return "microcred-upload:" + startUrl + ":" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function store(key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, value); }
    } catch (e) { /* storage disabled: resuming after a reload is lost, nothing else */ }
  }

  function recall(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function withToken(url) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "lt=" + encodeURIComponent(token);
  }

  function init(section) {
    var form = section.querySelector("[data-upload-form]");
    var list = section.querySelector("[data-file-list]");
    var empty = section.querySelector("[data-empty]");
    var messages = section.querySelector("[data-messages]");
    var startUrl = section.getAttribute("data-start-url");
    var maxBytes = parseInt(section.getAttribute("data-max-bytes"), 10);
    if (!token) { token = section.getAttribute("data-session"); }

    function say(text, isError) {
      messages.textContent = text;
      messages.classList.toggle("field-message", Boolean(isError));
    }

    function showEmpty() {
      empty.hidden = list.children.length > 0;
      // Tell the page (the workspace's part status and checklist) what the part now holds.
      var complete = list.querySelectorAll('li[data-state="complete"]').length;
      section.dispatchEvent(new CustomEvent("microcred:files-changed", {
        bubbles: true,
        detail: {
          part: section.getAttribute("data-part"),
          complete: complete,
          unfinished: list.children.length - complete
        }
      }));
    }

    section.addEventListener("click", function (event) {
      var link = event.target.closest("[data-remove]");
      if (!link) { return; }
      event.preventDefault();
      var name = link.getAttribute("data-name");
      if (!window.confirm("Remove \u201c" + name + "\u201d from your evidence?")) { return; }
      request("DELETE", link.getAttribute("data-url"), null).then(function (answer) {
        if (answer.status === 200) {
          link.closest("li").remove();
          showEmpty();
          say("\u201c" + name + "\u201d was removed.");
          if (form) { form.querySelector("[data-file-input]").focus(); }
        } else {
          say(errorText(answer, "The file could not be removed. Check your connection and try again."), true);
        }
      });
    });

    if (!form) { return; }
    var input = form.querySelector("[data-file-input]");
    var button = form.querySelector("[data-upload-button]");
    var progress = form.querySelector("[data-progress]");
    var bar = form.querySelector("[data-progress-bar]");
    var percent = form.querySelector("[data-percent]");
    var label = form.querySelector("[data-progress-label]");
    var cancel = form.querySelector("[data-cancel]");
    var active = null;

    function show(received, size) {
      var value = size ? Math.floor((received / size) * 100) : 0;
      bar.value = value;
      percent.textContent = value + "%";
    }

    // An image's description or a recording's transcript, for an assessor who cannot see or
    // hear it: the same form the page draws for its own rows (evidence/_files.html).
    function describeForm(file) {
      var image = file.media_type.indexOf("image/") === 0;
      var form = document.createElement("form");
      form.method = "post";
      form.className = "file-description";
      form.id = "file-" + file.id;
      form.action = section.getAttribute("data-describe-url")
        .replace(/\/0\/description$/, "/" + file.id + "/description");
      var session = document.createElement("input");
      session.type = "hidden";
      session.name = "lt";
      session.value = token;
      var label = document.createElement("label");
      label.htmlFor = "describe-" + file.id;
      label.textContent = (image ? "Description" : "Transcript") + " of " + file.name;
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.id = "describe-" + file.id + "-hint";
      hint.textContent = image
        ? "For an assessor who cannot see it: what it shows that matters for the criteria. Up to 5,000 characters."
        : "For an assessor who cannot hear or see it: what is said, and what happens that matters for the criteria. Up to 5,000 characters; or paste captions in WebVTT (the file Zoom, Teams or YouTube exports, starting with WEBVTT), which play with the recording.";
      var area = document.createElement("textarea");
      area.id = "describe-" + file.id;
      area.name = "description";
      area.rows = 3;
      area.setAttribute("aria-describedby", hint.id);
      var save = document.createElement("button");
      save.type = "submit";
      save.className = "secondary";
      save.textContent = "Save the " + (image ? "description" : "transcript");
      form.append(session, label, hint, area);
      if (!image) {
        var loader = document.createElement("p");
        loader.className = "captions-loader";
        var pick = document.createElement("input");
        pick.type = "file";
        pick.id = "captions-" + file.id;
        pick.accept = ".vtt,text/vtt";
        pick.setAttribute("data-captions-for", area.id);
        var pickLabel = document.createElement("label");
        pickLabel.htmlFor = pick.id;
        pickLabel.textContent = "Or load captions of " + file.name + " from a file (.vtt)";
        loader.append(pickLabel, " ", pick);
        form.append(loader);
      }
      form.append(save);
      return form;
    }

    function addToList(file) {
      var stale = list.querySelector('[data-file-id="' + file.id + '"]');
      if (stale) { stale.remove(); }
      var item = document.createElement("li");
      item.setAttribute("data-file-id", file.id);
      item.setAttribute("data-state", file.state);
      var link = document.createElement("a");
      link.href = withToken(file.urls.download);
      link.setAttribute("download", "");
      link.textContent = file.name;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " " + humanSize(file.size) + " \u00b7 " + file.media_type + " ";
      // Added by script, so removed by script: a button (the page's own rows link to a
      // confirmation page, for browsers without the script).
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.setAttribute("data-remove", "");
      remove.setAttribute("data-name", file.name);
      remove.setAttribute("data-url", file.urls.status);
      remove.textContent = "Remove";
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + file.name;
      remove.appendChild(hidden);
      item.append(link, meta, remove);
      if (/^(image|audio|video)\//.test(file.media_type)) { item.appendChild(describeForm(file)); }
      list.appendChild(item);
      showEmpty();
    }

    function finish(text, isError) {
      active = null;
      progress.hidden = true;
      button.disabled = false;
      input.disabled = false;
      say(text, isError);
      input.focus();
    }

    async function begin(file, key) {
      var known = recall(key);
      if (known) {
        var status = await request("GET", section.getAttribute("data-file-url").replace(/0$/, known), null);
        if (status.status === 200 && status.json.state === "uploading") { return status.json; }
        store(key, null);
      }
      var started = await request("POST", startUrl, { name: file.name, size: file.size });
      if (started.status !== 201) {
        throw new Error(errorText(started, "The upload could not start. Check your connection and try again."));
      }
      store(key, String(started.json.id));
      return started.json;
    }

    async function send(file, upload, job) {
      var received = upload.received;
      var failures = 0;
      while (received < file.size) {
        if (job.cancelled) { return null; }
        var end = Math.min(received + upload.chunk_size, file.size);
        var offset = received;
        var answer = await request("PUT", upload.urls.content + "?offset=" + offset, file.slice(offset, end), function (loaded) {
          show(offset + loaded, file.size);
        });
        if (job.cancelled) { return null; }
        if (answer.status === 200) {
          received = answer.json.received;
          failures = 0;
        } else if (answer.status === 409 && answer.json && typeof answer.json.received === "number") {
          received = answer.json.received; // the server has more (or less): continue from there
        } else if (answer.status === 0 || answer.status >= 500) {
          var delay = RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)];
          failures += 1;
          say("The connection was interrupted. Trying again in " + Math.round(delay / 1000) + " s; nothing is lost.", true);
          await wait(delay);
          var status = await request("GET", upload.urls.status, null);
          if (status.status === 200) {
            received = status.json.received;
            say("Continuing the upload of \u201c" + file.name + "\u201d.");
          }
        } else {
          throw new Error(errorText(answer, "The upload was refused."));
        }
        show(received, file.size);
      }
      // Completing twice is harmless: a completion whose answer was lost is asked again.
      var done = await request("POST", upload.urls.complete, null);
      while (done.status === 0 || done.status >= 500) {
        if (job.cancelled) { return null; }
        var pause = RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)];
        failures += 1;
        say("The connection was interrupted. Trying again in " + Math.round(pause / 1000) + " s; nothing is lost.", true);
        await wait(pause);
        done = await request("POST", upload.urls.complete, null);
      }
      if (done.status !== 200) { throw new Error(errorText(done, "The upload could not be completed.")); }
      return done.json;
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (active) { return; }
      var file = input.files && input.files[0];
      if (!file) { say("Choose a file first.", true); input.focus(); return; }
      if (file.size === 0) { say("\u201c" + file.name + "\u201d is empty (0 bytes), so there is nothing to upload.", true); return; }
      if (file.size > maxBytes) {
        say("\u201c" + file.name + "\u201d is " + humanSize(file.size) + "; the limit is " + humanSize(maxBytes) + ".", true);
        return;
      }
      var job = { cancelled: false, upload: null };
      active = job;
      button.disabled = true;
      label.textContent = "Uploading \u201c" + file.name + "\u201d";
      progress.hidden = false;
      show(0, file.size);
      say("Uploading \u201c" + file.name + "\u201d\u2026");
      cancel.focus();
      var key = memoryKey(startUrl, file);
      try {
        job.upload = await begin(file, key);
        if (job.cancelled) { // cancelled while it was being announced
          await request("DELETE", job.upload.urls.status, null);
          store(key, null);
          return;
        }
        if (job.upload.received > 0) { say("Continuing the upload of \u201c" + file.name + "\u201d where it stopped."); }
        var complete = await send(file, job.upload, job);
        if (!complete) { return; }
        store(key, null);
        addToList(complete);
        form.reset();
        finish("\u201c" + complete.name + "\u201d was uploaded (" + humanSize(complete.size) + ").");
      } catch (error) {
        store(key, null);
        finish(error.message, true);
      }
    });

    cancel.addEventListener("click", async function () {
      var job = active;
      if (!job) { return; }
      job.cancelled = true;
      if (request.current) { request.current.abort(); }
      if (job.upload) {
        await request("DELETE", job.upload.urls.status, null);
        var file = input.files && input.files[0];
        if (file) { store(memoryKey(startUrl, file), null); }
      }
      form.reset();
      finish("The upload was cancelled; nothing of it was kept.");
    });
  }

  document.querySelectorAll("[data-evidence-files]").forEach(init);

  // A captions file (.vtt) read into its recording's transcript field, to be saved with it.
  var MAX_CAPTIONS_BYTES = 400000;
  document.querySelectorAll("[data-captions-loader]").forEach(function (p) { p.hidden = false; });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-captions-for]") || !input.files.length) {
      return;
    }
    var area = document.getElementById(input.getAttribute("data-captions-for"));
    var picked = input.files[0];
    var note = input.parentNode.querySelector("[data-captions-note]");
    if (!note) {
      note = document.createElement("span");
      note.setAttribute("data-captions-note", "");
      note.setAttribute("role", "status");
      input.parentNode.appendChild(note);
    }
    if (picked.size > MAX_CAPTIONS_BYTES) {
      note.textContent = " " + picked.name + " is too large for captions: choose the .vtt file " +
        "of this recording.";
      return;
    }
    picked.text().then(function (text) {
      area.value = text.replace(/^\ufeff/, "").trim();
      note.textContent = " Loaded " + picked.name + ": save the transcript to keep it.";
      area.focus();
    });
  });
})();
