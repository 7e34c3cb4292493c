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
