// Editor preview only: show a rebuild as soon as the server has made it.
// One question stays open (/preview/changes?since=N, a long-poll); when the version changes
// the new email goes into the frames' documents in place (keeping their scroll position) and
// the status, error and plain text are taken from a fresh copy of the page. Each repaint is
// recorded in window.previewRepaints ({version, heard, at}) for bench/preview.py.
(function () {
  "use strict";
  var root = document.documentElement;
  var shown = Number(root.getAttribute("data-version"));
  var url = root.getAttribute("data-changes-url");
  var asks = 0;
  window.previewRepaints = [];

  function later(delay) { window.setTimeout(ask, delay); }

  function ask() {
    asks += 1;
    if (asks > 20000) { return; } // days of asking: stop
    fetch(url + "?since=" + shown, { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.version !== shown) { show(state.version, performance.timeOrigin + performance.now()); return; }
        later(state.busy ? 1000 : 0);
      })
      .catch(function () { later(3000); });
  }

  function swap(fresh, selector, after) {
    var old = document.querySelector(selector);
    var now = fresh.querySelector(selector);
    if (now) { now = document.importNode(now, true); }
    if (old && now) { old.replaceWith(now); } else if (old) { old.remove(); } else if (now) { document.querySelector(after).after(now); }
  }

  function painted(version, heard) {
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        var at = performance.timeOrigin + performance.now();
        window.previewRepaints.push({ version: version, heard: heard, at: at });
        root.setAttribute("data-shown", String(version));
      });
    });
  }

  function fillFrames(version) {
    // One fetch of the new email, put into each frame's document in place: no navigation,
    // no image reloads, and the frame keeps its scroll position.
    var frames = Array.prototype.slice.call(document.querySelectorAll(".frames iframe"));
    if (!frames.length) { return Promise.resolve(); }
    var address = frames[0].getAttribute("src").split("?")[0];
    return fetch(address + "?v=" + version, { cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        frames.forEach(function (frame) {
          var view = frame.contentWindow;
          var doc = null;
          try { doc = frame.contentDocument; } catch (e) { /* not ours */ }
          if (!doc || !doc.documentElement || doc.URL === "about:blank") {
            frame.src = address + "?v=" + version; // not loaded yet: its CSP is not the email's
            return;
          }
          var open = /<html\b([^>]*)>/i.exec(html);
          if (!open) { frame.src = address + "?v=" + version; return; }
          var x = view.scrollX, y = view.scrollY;
          var top = doc.documentElement;
          // parsed by the frame's own document, so under the email's CSP, not the page's
          var probe = doc.createElement("div");
          probe.innerHTML = "<div" + open[1] + "></div>";
          Array.prototype.slice.call(top.attributes).forEach(function (a) { top.removeAttribute(a.name); });
          Array.prototype.slice.call(probe.firstChild.attributes).forEach(function (a) { top.setAttribute(a.name, a.value); });
          top.innerHTML = html.slice(open.index + open[0].length).replace(/<\/html>\s*$/i, "");
          view.scrollTo(x, y);
        });
      });
  }

  function show(version, heard) {
    var framed = Boolean(document.querySelector(".frames"));
    var textDone = fetch(window.location.pathname, { cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html");
        if (Boolean(fresh.querySelector(".frames")) !== framed) {
          window.location.reload(); // a first good build, or none: the whole page changes
          return;
        }
        swap(fresh, ".bar .status", ".bar h1");
        swap(fresh, ".error", ".bar");
        swap(fresh, ".text pre", ".text h2");
      })
      .catch(function () { window.location.reload(); });
    shown = version;
    root.setAttribute("data-version", String(version));
    later(0);
    var framesDone = framed ? fillFrames(version) : Promise.resolve(); // beside the page fetch
    Promise.all([textDone, framesDone])
      .then(function () { painted(version, heard); })
      .catch(function () { window.location.reload(); });
  }

  later(0);
})();
