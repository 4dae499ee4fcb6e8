// Bulk issue job page: follow the progress without reloading, then reload once the job has finished
// (or has stalled, to show its Resume button).
// Without JavaScript the page refreshes itself (a <noscript> meta refresh).
(function () {
  "use strict";
  var bar = document.getElementById("bulk-progress");
  var text = document.getElementById("bulk-progress-text");
  if (!bar || !window.fetch) {
    return;
  }
  var url = bar.getAttribute("data-progress-url");
  var format = function (n) { return Number(n).toLocaleString("en"); };
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (job) {
        if (job.state === "done" || job.state === "failed" || job.state === "cancelled" || job.can_resume) {
          window.location.reload();
          return;
        }
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        bar.textContent = job.done + " of " + job.total;
        text.textContent = format(job.done) + " of " + format(job.total) + " rows done.";
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 3000);      // the server may be restarting: keep trying, more slowly
      });
  }
  window.setTimeout(poll, 1000);
})();
