/*! Attune quiz widget, embed script. Protocol version 1. See docs/embedding.md. */
// Finds <div data-attune-quiz="SLUG"> containers, puts the quiz in an iframe (inline, or in a
// dialog opened by a button in popup mode), sizes it to its content, and raises the widget's
// events on the container as DOM events: attune:ready, attune:started, attune:step,
// attune:consent, attune:resize, attune:completed, attune:error.
(function () {
  "use strict";
  var PROTOCOL = "attune";
  var VERSION = 1;
  var EVENTS = ["ready", "started", "step", "consent", "resize", "completed", "error"];
  var script = document.currentScript;
  if (!script || !script.src) return;
  var ATTUNE = new URL(script.src, location.href).origin;
  var api = window.Attune = window.Attune || { version: VERSION, widgets: [] };
  if (api.loaded) return; // the script was included twice
  api.loaded = true;

  function raise(widget, type, detail) {
    widget.container.dispatchEvent(new CustomEvent("attune:" + type, { detail: detail, bubbles: true }));
  }

  function frameUrl(options) {
    var params = new URLSearchParams({ origin: location.origin });
    if (options.locale) params.set("lang", options.locale);
    if (options.hidden) params.set("hidden", options.hidden);
    if (options.theme) params.set("theme", options.theme);
    return ATTUNE + "/w/" + encodeURIComponent(options.slug) + "/?" + params.toString();
  }

  function makeFrame(options) {
    var iframe = document.createElement("iframe");
    iframe.src = frameUrl(options);
    iframe.title = options.title;
    iframe.setAttribute("aria-label", options.title);
    iframe.style.cssText = "display:block;width:100%;height:640px;border:0;";
    return iframe;
  }

  function onMessage(widget, event) {
    if (event.origin !== ATTUNE || !widget.iframe || event.source !== widget.iframe.contentWindow) return;
    var message = event.data;
    if (!message || message.protocol !== PROTOCOL || message.version !== VERSION) return;
    if (message.type === "escape") {
      if (widget.dialog) widget.close();
      return;
    }
    if (message.type === "top") {
      toTop(widget);
      return;
    }
    if (EVENTS.indexOf(message.type) < 0) return;
    var data = message.data || {};
    if (message.type === "resize" && typeof data.height === "number" && data.height > 0) {
      widget.iframe.style.height = Math.ceil(data.height) + "px";
    }
    if (message.type === "ready") {
      if (widget.ready) return; // once per widget, not once per page inside it
      widget.ready = true;
    }
    raise(widget, message.type, data);
  }

  // A new step was shown in the frame: bring its top into view, as a new page would open.
  function toTop(widget) {
    if (widget.dialog) {
      widget.dialog.scrollTop = 0;
      return;
    }
    var top = widget.iframe.getBoundingClientRect().top - widget.options.scrollOffset;
    if (top >= 0 && top < window.innerHeight / 3) return; // its top is in view already
    window.scrollTo({ top: Math.max(0, window.pageYOffset + top - widget.options.scrollOffset), behavior: "auto" });
  }

  // The dialog's look: full screen on phones, a clear backdrop, the close button always in view.
  // A constructed style sheet, as a partner's Content-Security-Policy may refuse <style> elements.
  var DIALOG_CSS =
    "dialog.attune-dialog{width:min(720px,100vw - 2rem);max-width:none;max-height:calc(100vh - 2rem);padding:0;" +
    "border:0;border-radius:12px;overflow:auto;background:#fff;}" +
    "dialog.attune-dialog::backdrop{background:rgba(17,24,28,.72);}" +
    "dialog.attune-dialog .attune-bar{position:sticky;top:0;z-index:1;display:flex;justify-content:flex-end;" +
    "background:#fff;border-bottom:1px solid #d8dee3;}" +
    "dialog.attune-dialog .attune-close{font-size:1.5rem;line-height:1;min-width:44px;min-height:44px;" +
    "background:none;border:0;cursor:pointer;color:#1d2327;}" +
    "@media (max-width:600px){dialog.attune-dialog{width:100vw;height:100vh;height:100dvh;max-height:none;" +
    "margin:0;border-radius:0;inset:0;}}";
  function addDialogStyle() {
    if (api.styled) return;
    api.styled = true;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(DIALOG_CSS);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      var style = document.createElement("style");
      style.textContent = DIALOG_CSS;
      document.head.appendChild(style);
    }
  }

  function popup(widget, options) {
    addDialogStyle();
    var button = document.createElement("button");
    button.type = "button";
    button.className = "attune-open";
    button.textContent = options.buttonText;
    if (options.theme) button.style.cssText = "background:" + options.theme + ";color:#fff;border:0;padding:.7em 1.2em;border-radius:8px;font:inherit;cursor:pointer;";
    var dialog = document.createElement("dialog");
    dialog.className = "attune-dialog";
    dialog.setAttribute("aria-label", options.title);
    var bar = document.createElement("div");
    bar.className = "attune-bar";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "attune-close";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", options.closeText);
    bar.appendChild(close);
    dialog.appendChild(bar);
    widget.container.appendChild(button);
    widget.container.appendChild(dialog);
    widget.dialog = dialog;
    widget.open = function () {
      if (!widget.iframe) {
        widget.iframe = makeFrame(options);
        dialog.appendChild(widget.iframe);
      }
      dialog.showModal(); // the rest of the page is inert: Tab stays in the dialog
      close.focus();
    };
    widget.close = function () {
      if (dialog.open) dialog.close();
    };
    button.addEventListener("click", widget.open);
    close.addEventListener("click", widget.close);
    dialog.addEventListener("close", function () { button.focus(); });
  }

  function mount(container) {
    if (container.getAttribute("data-attune-mounted")) return null;
    container.setAttribute("data-attune-mounted", "1");
    var data = container.dataset;
    var options = {
      slug: data.attuneQuiz,
      locale: data.locale || "",
      mode: data.mode === "popup" ? "popup" : "inline",
      theme: /^#[0-9a-fA-F]{6}$/.test(data.themeColor || "") ? data.themeColor : "",
      buttonText: data.buttonText || (data.locale === "es" ? "Haz el cuestionario" : "Take the quiz"),
      closeText: data.locale === "es" ? "Cerrar" : "Close",
      title: data.title || (data.locale === "es" ? "Cuestionario de productos" : "Product quiz"),
      hidden: data.hidden || "",
      scrollOffset: parseInt(data.scrollOffset, 10) || 0
    };
    var widget = { container: container, options: options, iframe: null, dialog: null, ready: false };
    window.addEventListener("message", function (event) { onMessage(widget, event); });
    if (options.mode === "popup") {
      popup(widget, options);
    } else {
      widget.iframe = makeFrame(options);
      container.appendChild(widget.iframe);
    }
    widget.on = function (type, handler) {
      container.addEventListener("attune:" + type, function (event) { handler(event.detail, event); });
      return widget;
    };
    api.widgets.push(widget);
    return widget;
  }

  api.mount = function (container) { return mount(container); };
  api.on = function (type, handler) {
    document.addEventListener("attune:" + type, function (event) { handler(event.detail, event); });
  };

  function mountAll() {
    var containers = document.querySelectorAll("[data-attune-quiz]");
    for (var i = 0; i < containers.length; i++) mount(containers[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
