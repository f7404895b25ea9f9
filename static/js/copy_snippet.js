// The widget page's "Copy the snippet" button: shown only where the clipboard can be written.
(function () {
  "use strict";
  var button = document.getElementById("copy-snippet");
  var source = document.getElementById("snippet-code");
  var status = document.getElementById("copy-status");
  if (!button || !source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent).then(
      function () { status.textContent = "Copied. Paste it into your site's page."; },
      function () { status.textContent = "Your browser did not allow copying: select the snippet and copy it."; }
    );
  });
})();
