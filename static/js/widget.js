// Inside a partner's iframe: tell the host page what happens (attune protocol, version 1) and
// how tall the page is. Messages go only to the partner origin the server checked; messages
// coming in are read only from that origin's window. See docs/embedding.md.
(function () {
  "use strict";
  var PROTOCOL = "attune";
  var VERSION = 1;
  var FRAME_NAME = "attune-widget";
  var root = document.documentElement;
  var parentOrigin = root.getAttribute("data-parent-origin");
  var theme = root.getAttribute("data-theme");
  if (theme) root.style.setProperty("--accent", theme);
  if (!parentOrigin || window.parent === window) return;

  function send(type, data) {
    window.parent.postMessage({ protocol: PROTOCOL, version: VERSION, type: type, data: data || {} }, parentOrigin);
  }

  // A new step: the host scrolls its page (or its dialog) to the widget's top, never the frame;
  // focus goes to the step's heading without scrolling anything, so a screen reader starts there.
  function toStepTop() {
    send("top");
    var heading = document.querySelector("main h1");
    if (!heading) return;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }

  var lastHeight = 0;
  function measure() {
    var height = Math.ceil(root.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      send("resize", { height: height });
    }
  }

  send("ready"); // nothing about the page: its address may hold the shopper's privacy token
  // window.name lives as long as the frame, across its pages: empty on the frame's first page only.
  var laterStep = window.name === FRAME_NAME;
  window.name = FRAME_NAME;
  var queued = document.getElementById("widget-events");
  if (queued) {
    try {
      JSON.parse(queued.textContent).forEach(function (event) { send(event.type, event.data); });
    } catch (e) { /* a page without events */ }
  }
  measure();
  if (laterStep) toStepTop();
  if (window.ResizeObserver) new ResizeObserver(measure).observe(document.body);
  window.addEventListener("load", measure);

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    var message = event.data;
    if (!message || message.protocol !== PROTOCOL || message.version !== VERSION) return;
    if (message.type === "measure") {
      lastHeight = 0;
      measure();
    }
  });

  // Escape inside the frame reaches the host only through a message (it closes a popup).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") send("escape");
  });
})();
