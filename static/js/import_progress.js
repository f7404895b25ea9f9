// Live import progress: poll the status endpoint and update the page in place.
(function () {
  "use strict";
  var box = document.querySelector(".import-progress[data-status-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var show = function (name, value) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = value === null || value === undefined ? "–" : String(value);
  };
  var tick = function () {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        ["status", "processed", "total", "percent", "rate_per_s", "eta_s", "message"].forEach(function (k) { show(k, s[k]); });
        bar.value = s.percent;
        if (s.status === "queued" || s.status === "running") {
          setTimeout(tick, 1000);
        } else if (box.getAttribute("data-status") !== s.status) {
          window.location.reload(); // finished: show the summary and the row errors
        }
      })
      .catch(function () { setTimeout(tick, 3000); });
  };
  if (box.getAttribute("data-status") === "queued" || box.getAttribute("data-status") === "running") tick();
})();
