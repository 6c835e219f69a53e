// Live screens: one EventSource per page. Each event is re-dispatched on <body> as a "live"
// event (htmx panels listen with hx-trigger="live from:body") and as "live:change" with the
// event's data for scripts. Bursts are folded into one refresh per REFRESH_MS; a reconnect
// (after a server restart or a stream's natural end) refreshes too, so nothing stays stale.
(function () {
  "use strict";
  var script = document.getElementById("live-script");
  if (!script || !window.EventSource) return;
  var REFRESH_MS = 200;
  var pending = false;
  var status = document.querySelector("[data-live-status]");

  function refresh() {
    if (pending) return;
    pending = true;
    setTimeout(function () {
      pending = false;
      if (window.htmx) window.htmx.trigger(document.body, "live");
    }, REFRESH_MS);
  }

  function show(state) {
    document.body.dataset.live = state;
    if (status) status.textContent = state === "open" ? "实时" : "重连中…";
  }

  var source = new EventSource(script.dataset.url);
  var opened = false;
  source.addEventListener("open", function () {
    show("open");
    if (opened) refresh(); // a reconnect: catch up on anything the stream did not carry
    opened = true;
  });
  source.addEventListener("error", function () { show("reconnecting"); });
  source.addEventListener("change", function (message) {
    var data = JSON.parse(message.data);
    document.body.dispatchEvent(new CustomEvent("live:change", { detail: data }));
    refresh();
  });
})();
