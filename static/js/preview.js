// Live preview: with JavaScript, show the best matches for the answers given so far, fetched
// from the JSON API. Without JavaScript the aside stays hidden and results come at the end.
(function () {
  "use strict";
  var data = document.getElementById("preview-data");
  var aside = document.querySelector("aside.preview");
  if (!data || !aside) return;
  var preview;
  try { preview = JSON.parse(data.textContent); } catch (e) { return; }
  fetch(preview.endpoint, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + preview.token },
    body: JSON.stringify({ answers: preview.answers, limit: preview.limit })
  })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (body) {
      var list = aside.querySelector(".preview-items");
      body.items.forEach(function (item) {
        var li = document.createElement("li");
        var title = document.createElement("strong");
        title.textContent = item.title;
        var why = document.createElement("span");
        why.className = "why";
        why.textContent = item.reasons[0] || "";
        li.appendChild(title);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(why);
        list.appendChild(li);
      });
      if (body.items.length) aside.hidden = false;
    })
    .catch(function () { /* the preview is a bonus: the quiz works without it */ });
})();
