/* One way of showing a moment in time (app/core/moments.py writes the <time> elements).
 *
 * Every <time datetime="…Z" data-moment="datetime|date|time"> is shown in the viewer's time zone
 * (only the browser knows it) and language. The language is the LMS's (launch_presentation.locale,
 * on <html data-locale>) when there is one: Moodle sends "en" or "en_us" style codes, Canvas
 * "en-GB" style ones. When the LMS names only a language and the browser's language is a variety
 * of the same one ("en" and "en-GB"), the browser's is taken, as it carries the regional format
 * the LMS did not say. Scripts that change a time later call MicrocredMoments.set(element, iso).
 */
(function () {
  "use strict";

  var OPTIONS = {
    datetime: { year: "numeric", month: "short", day: "numeric", hour: "numeric",
                minute: "2-digit", timeZoneName: "short" },
    date: { year: "numeric", month: "long", day: "numeric" },
    time: { hour: "numeric", minute: "2-digit", timeZoneName: "short" }
  };

  function supported(tag) {
    if (!tag) return null;
    try {
      var found = Intl.DateTimeFormat.supportedLocalesOf([tag.replace(/_/g, "-")]);
      return found.length ? found[0] : null;
    } catch (e) {
      return null; // not a language tag at all
    }
  }

  function viewerLocale() {
    var lms = supported(document.documentElement.getAttribute("data-locale"));
    var browser = supported(navigator.language);
    if (!lms) return browser || undefined;
    if (browser && lms.indexOf("-") < 0 && browser.split("-")[0] === lms) return browser;
    return lms;
  }

  var locale = viewerLocale();
  var formats = {};

  function format(iso, style) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return null;
    style = OPTIONS[style] ? style : "datetime";
    if (!formats[style]) formats[style] = new Intl.DateTimeFormat(locale, OPTIONS[style]);
    return formats[style].format(when);
  }

  function show(element) {
    var text = format(element.getAttribute("datetime"), element.getAttribute("data-moment"));
    if (text) element.textContent = text;
  }

  function showAll(root) {
    var found = (root || document).querySelectorAll("time[data-moment]");
    for (var i = 0; i < found.length; i++) show(found[i]);
  }

  /* Point a <time> element at another moment (an ISO 8601 string) and show it. */
  function set(element, iso, style) {
    element.setAttribute("datetime", iso);
    if (style || !element.hasAttribute("data-moment")) {
      element.setAttribute("data-moment", style || "datetime");
    }
    show(element);
  }

  window.MicrocredMoments = { format: format, set: set, showAll: showAll, locale: locale };
  showAll(document);
})();
