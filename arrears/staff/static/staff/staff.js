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

// The unit page's contact form: a contact not authorised to hear of the debt can only end in a
// neutral outcome (the server refuses the others); outcomes that relay a message need such a
// person rather than the owner. Offer only what the server would accept.
(function () {
  "use strict";
  function filterOutcomes(form) {
    var contact = form.querySelector("select[name=contact]");
    var outcome = form.querySelector("select[name=outcome]");
    if (!contact || !outcome) return;
    var chosen = contact.options[contact.selectedIndex];
    var thirdParty = !!(chosen && chosen.dataset.thirdParty);
    var ownerChosen = !contact.value;
    Array.prototype.forEach.call(outcome.options, function (option) {
      var off = thirdParty ? !option.dataset.neutral : (ownerChosen && !!option.dataset.relayed);
      option.disabled = off;
      option.hidden = off;
    });
    if (outcome.selectedOptions.length && outcome.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(outcome.options, function (option) { return !option.disabled; });
      if (first) outcome.value = first.value;
    }
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.attempt-form");
    if (form && event.target.name === "contact") filterOutcomes(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.attempt-form").forEach(filterOutcomes);
  });
})();

// The import page: follow the background job's progress, then load the page with its report.
(function () {
  "use strict";
  var meter = document.querySelector(".meter[data-status-url]");
  if (!meter) return;
  var fill = meter.querySelector(".fill");
  var text = meter.parentNode.querySelector(".progress-text");
  function poll() {
    fetch(meter.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, 5000); return; }
        fill.style.width = job.percent + "%";
        meter.setAttribute("aria-valuenow", String(job.percent));
        if (text) text.textContent = job.text;
        if (job.finished) { window.location.replace(meter.dataset.doneUrl); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
