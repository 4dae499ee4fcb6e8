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

// The share kit's other copy buttons (the embed snippet): data-copy-field names the field,
// data-copy-done the message once copied. Same fallback: select the text for Ctrl+C.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-field]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-field"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field || !status || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = button.getAttribute("data-copy-done") || "Copied.";
      }, function () {
        field.select();
        status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected text.";
      });
    });
  });
})();
