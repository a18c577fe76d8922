// The statement page: the selected total on the pay button, and a busy state while an order is created.
(function () {
  "use strict";
  function yuan(cents) {
    return "¥" + (cents / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  document.querySelectorAll("form.payform").forEach(function (form) {
    var out = form.querySelector("[data-role=selected-total]");
    function update() {
      var cents = 0;
      form.querySelectorAll("input[name=charge]:checked").forEach(function (box) {
        cents += Math.round(parseFloat(box.dataset.amount) * 100);
      });
      if (out) out.textContent = cents ? yuan(cents) : "";
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
