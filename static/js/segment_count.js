// Live count in the segment editor: as the rules change, ask how many profiles they select.
// Without JavaScript the "Count" button does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  var rules = document.getElementById("segment-rules");
  var output = document.getElementById("segment-count");
  if (!form || !rules || !output || !window.fetch) return;
  var timer = null;
  function update() {
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("rules", rules.value);
    fetch(form.getAttribute("data-count-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        output.textContent = typeof data.count === "number"
          ? data.count + " profiles match these rules now."
          : data.error + " " + JSON.stringify(data.fields || {});
      })
      .catch(function () { output.textContent = ""; });
  }
  rules.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });
  update();
})();
