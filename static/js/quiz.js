// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".counter[data-for]").forEach(function (hint) {
    var field = document.getElementById(hint.getAttribute("data-for"));
    if (!field || !field.maxLength || field.maxLength < 0) return;
    hint.setAttribute("aria-live", "polite");
    var update = function () {
      hint.textContent = (field.maxLength - field.value.length) + " characters left.";
    };
    field.addEventListener("input", update);
    update();
  });
})();
