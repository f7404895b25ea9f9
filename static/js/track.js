/*! Attune shop events (track.js). Protocol version 1. See docs/outcomes.md. */
// Sends the shop's own events (product_view, product_click, add_to_cart, purchase) to Attune.
// It sets no cookie and stores nothing in the browser: who an event is about comes from the
// subject token the shop holds, or from the attribution reference (attune_ref) a recommendation
// link carried to the shop's page. Only the merchant's allowed origins may call (CORS).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var ATTUNE = new URL(script.src, location.href).origin;
  var SHOP = script.getAttribute("data-attune-shop");
  var FIELDS = ["product_id", "order_id", "value", "currency", "items", "occurred_at"];
  var api = window.Attune = window.Attune || {};
  if (api.track) return; // the script was included twice

  // The reference of the recommendation that brought the shopper here: given by the shop
  // (data-attune-ref, say from its cart), else on this page's address (the link's landing).
  function reference(given) {
    return given || script.getAttribute("data-attune-ref") || new URLSearchParams(location.search).get("attune_ref");
  }

  // Send one event; resolves to the HTTP status, or null when nothing was sent. Never throws:
  // a failed report must not break the shop's page.
  api.track = function (type, data) {
    data = data || {};
    var body = { type: type };
    FIELDS.forEach(function (name) {
      if (data[name] !== undefined && data[name] !== null) body[name] = data[name];
    });
    var ref = reference(data.attune_ref);
    if (ref) body.attune_ref = ref;
    var token = data.token || script.getAttribute("data-attune-token");
    if (!SHOP || (!token && !ref)) return Promise.resolve(null); // not a quiz shopper: nothing to attribute
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(ATTUNE + "/api/v1/m/" + encodeURIComponent(SHOP) + "/events", {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "omit",
      keepalive: true,
      mode: "cors",
    }).then(function (response) { return response.status; }, function () { return null; });
  };

  // Buttons and links that say what they do: <button data-attune-event="add_to_cart" data-product-id="SKU-1">
  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("[data-attune-event]") : null;
    if (!target) return;
    api.track(target.getAttribute("data-attune-event"), { product_id: target.getAttribute("data-product-id") });
  }, true);
})();
