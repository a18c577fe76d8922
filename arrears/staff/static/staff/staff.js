// Long requests (import dry run and import): disable the button and show a progress bar at once.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("busy-form")) return;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    });
    var progress = form.querySelector(".progress");
    if (progress) {
      progress.hidden = false;
      var text = progress.querySelector(".progress-text");
      if (text) text.textContent = form.dataset.busy || "";
    }
  });
  // Coming back with the browser's back button must not leave a dead, disabled form.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.busy-form").forEach(function (form) {
      form.dataset.submitted = "";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); });
      var progress = form.querySelector(".progress");
      if (progress) progress.hidden = true;
    });
  });
})();
