// A little help for the keyboard; every page works without it.
(function () {
  // Browsers skip `autofocus` on some elements (links) after navigation: make sure focus lands.
  var first = document.querySelector("[autofocus]");
  if (first && document.activeElement === document.body) { first.focus(); }
  // "/" jumps to the search box (roster, patients), as in many list screens.
  document.addEventListener("keydown", function (e) {
    var search = document.getElementById("q");
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (e.key === "/" && search && !typing) { e.preventDefault(); search.focus(); search.select(); }
  });
  // A form with data-confirm asks before it changes something that is hard to take back (no-show,
  // void, corrections): the question names the patient. Without JavaScript the form still works.
  document.addEventListener("submit", function (e) {
    var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { e.preventDefault(); }
  });
  // The login ends on the server after the idle time; clear the screen then too, so no patient's
  // data stays on an unattended window (the login page says why and leads back here).
  var idle = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
  if (idle > 0) {
    setTimeout(function () {
      window.location.assign("/ui/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }, (idle + 5) * 1000);
  }
})();
