/*
 * The development LMS after a Deep Linking return: the course page around this frame shows the
 * new activities at once, as Moodle's and Canvas's pages do once their dialog closes. The list
 * is read again from the course page's own address and put in place of the old one. A course
 * page on another origin (a school's own host) cannot be reached from here: it keeps its list
 * until it is reloaded, and this page's "Back to" link does that.
 */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var list;
  var address;
  try {
    list = window.parent.document.getElementById("course-activities");
    address = window.parent.location.href;
  } catch (e) { return; }
  if (!list) { return; }
  fetch(address, { credentials: "same-origin" }).then(function (response) {
    return response.ok ? response.text() : null;
  }).then(function (html) {
    if (!html) { return; }
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("course-activities");
    if (fresh) { list.innerHTML = fresh.innerHTML; }
  }).catch(function () { /* the old list stays; the link back reloads it */ });
}());
