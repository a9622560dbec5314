// Editor preview only: reload the page when the issue has been rebuilt.
(function () {
  "use strict";
  var root = document.documentElement;
  var shown = root.getAttribute("data-version");
  var url = root.getAttribute("data-version-url");
  var polls = 0;
  function poll() {
    polls += 1;
    if (polls > 36000) { return; } // ten hours: stop
    fetch(url, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (String(state.version) !== shown) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
