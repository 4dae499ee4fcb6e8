// Progressive enhancement for the badge page: a "Copy link" button next to the read-only link field.
// The page works without it (the field can be selected and copied by hand).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = "Link copied.";
      }, function () {
        field.select();
        status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected link.";
      });
    });
  });
})();
