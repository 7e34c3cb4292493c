/* mcprag console: progressive enhancement only (every page works without it).
   Served from /console/console.js so the page needs no inline script (CSP script-src 'self'). */
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
});
document.querySelectorAll(".chart-wrap").forEach(function (wrap) {
  var svg = wrap.querySelector("svg.chart"), tip = wrap.querySelector(".tooltip");
  if (!svg || !tip) return;
  svg.addEventListener("mousemove", function (event) {
    var bar = event.target.closest("rect.bar");
    if (!bar) { tip.style.display = "none"; return; }
    var box = wrap.getBoundingClientRect();
    tip.textContent = bar.dataset.label + " · " + bar.dataset.series + ": " + bar.dataset.display;
    tip.style.left = (event.clientX - box.left) + "px"; tip.style.top = (event.clientY - box.top) + "px";
    tip.style.display = "block";
  });
  svg.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  wrap.querySelectorAll(".legend button").forEach(function (button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      wrap.querySelectorAll(".legend button").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      button.setAttribute("aria-pressed", on ? "true" : "false");
      svg.classList.toggle("dimmed", on);
      svg.querySelectorAll("rect.bar").forEach(function (bar) {
        bar.classList.toggle("focus", on && bar.dataset.series === button.dataset.series);
      });
    });
  });
});
/* Index jobs: every element with data-progress-url and data-finished="false" (the job page, job
   list rows, repository rows) polls /console/jobs/<id>/progress.json about once a second until the
   job has finished. Inside it, [data-field=KEY] shows display[KEY] of the answer (a <progress>
   takes its percent, which the server only ever moves forward; display.phase names the phase and
   display.phase_<name> gives each phase's counts), tbody[data-errors] gets the per-file errors it does not show yet, and
   [data-show-when-finished] is revealed at the end. */
(function () {
  var EVERY_MS = 1000, SLOWEST_MS = 15000;

  function render(scope, doc) {
    scope.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.dataset.field;
      if (el.tagName === "PROGRESS") { el.value = doc.percent; el.textContent = doc.display.percent; el.dataset.percent = String(doc.percent); return; }
      if (!(key in doc.display)) return;
      el.textContent = doc.display[key];
      if (key === "status") el.className = "badge " + doc.display.status_badge;
      if (key === "message") el.title = doc.message;
    });
    var body = scope.querySelector("tbody[data-errors]");
    for (var i = body ? body.rows.length : 0; body && i < doc.errors.length; i++) {
      var row = body.insertRow(), path = document.createElement("code");
      path.textContent = doc.errors[i].path;
      row.insertCell().appendChild(path);
      row.insertCell().textContent = doc.errors[i].message;
    }
    scope.dataset.status = doc.status;
    scope.dataset.finished = doc.finished ? "true" : "false";
    scope.dataset.updates = String(Number(scope.dataset.updates || 0) + 1);
    if (doc.finished) scope.querySelectorAll("[data-show-when-finished]").forEach(function (el) { el.hidden = false; });
  }

  function follow(scope) {
    var delay = EVERY_MS;
    function tick() {
      fetch(scope.dataset.progressUrl, {credentials: "same-origin", cache: "no-store", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (response.redirected || response.status === 403 || response.status === 404) return null; // signed out, or gone
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (doc) {
          if (doc === null) return;
          render(scope, doc);
          delay = EVERY_MS;
          if (!doc.finished) window.setTimeout(tick, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, SLOWEST_MS); window.setTimeout(tick, delay); });
    }
    window.setTimeout(tick, EVERY_MS);
  }

  document.querySelectorAll("[data-progress-url][data-finished='false']").forEach(follow);
})();
