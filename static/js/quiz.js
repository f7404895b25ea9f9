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

  // The consent notice: note whether the shopper unfolded its details before deciding (the
  // receipt says so; without JavaScript the field stays empty, "not known").
  var detailsOpened = document.querySelector("input[name=details_opened]");
  var details = document.querySelector("details.explainer-details");
  if (detailsOpened && details) {
    detailsOpened.value = details.open ? "1" : "0";
    details.addEventListener("toggle", function () {
      if (details.open) detailsOpened.value = "1";
    });
  }

  // "Copy link" on the saved page (without JavaScript the link is there to select and copy).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        if (status) status.textContent = button.getAttribute("data-copied");
      };
      field.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          document.execCommand("copy");
          done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
