// The statement page: the selected total on the pay button, and a busy state while an order is created.
(function () {
  "use strict";
  function yuan(cents) {
    return "¥" + (cents / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function toCents(text) {  // "1234.50" -> 123450, without floating-point drift
    var parts = String(text).split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  document.querySelectorAll("form.payform").forEach(function (form) {
    var out = form.querySelector("[data-role=selected-total]");
    var gap = form.querySelector("[data-role=gap]");
    var gapAmount = form.querySelector("[data-role=gap-amount]");
    var total = form.dataset.total ? toCents(form.dataset.total) : 0;
    function update() {
      var cents = 0;
      form.querySelectorAll("input[name=charge]:checked").forEach(function (box) {
        cents += toCents(box.dataset.amount);
      });
      if (out) out.textContent = cents ? yuan(cents) : "";
      if (gap && gapAmount) {  // what is owed but not in the button
        gap.hidden = total - cents <= 0;
        gapAmount.textContent = yuan(total - cents);
      }
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = cents === 0;
    }
    form.addEventListener("change", update);
    update();
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter || form.querySelector("button[type=submit]");
      if (!button || !button.dataset.busy) return;
      if (button.name) {  // a disabled button is not submitted: keep its value
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
        form.appendChild(hidden);
      }
      button.textContent = button.dataset.busy;
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
