// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".counter[data-for]").forEach(function (hint) {
    var field = document.getElementById(hint.getAttribute("data-for"));
    if (!field || !field.maxLength || field.maxLength < 0) return;
    hint.setAttribute("aria-live", "polite");
    var update = function () {
      // The page gives the sentence in the shopper's language, with {n} for the number.
      var sentence = hint.getAttribute("data-left") || "{n}";
      hint.textContent = sentence.replace("{n}", String(field.maxLength - field.value.length));
    };
    field.addEventListener("input", update);
    update();
  });
})();
