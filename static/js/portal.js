// The portal's few behaviours, wired by data attributes (no inline script: the CSP allows none).
//   data-autosubmit                 a <select> that submits its form when changed
//   data-autosubmit-clear="field"   ... after emptying that field of the form
//   data-confirm="question"         a button (or link) that asks first
//   #blast-form[data-preview-url]   the blast preview follows the mapping
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("[data-autosubmit]");
    if (!select || !select.form) return;
    var clear = select.getAttribute("data-autosubmit-clear");
    if (clear && select.form.elements[clear]) select.form.elements[clear].value = "";
    select.form.submit();
  });

  document.addEventListener("click", function (event) {
    var asking = event.target.closest && event.target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) event.preventDefault();
  });

  function blastPreview() {
    var form = document.getElementById("blast-form");
    var target = document.getElementById("blast-preview");
    if (!form || !target || !form.dataset.previewUrl) return;
    var timer;
    function refresh() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string" && key !== "csrfmiddlewaretoken") params.append(key, value);
      });
      fetch(form.dataset.previewUrl + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) target.innerHTML = html; });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    form.addEventListener("change", refresh);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", blastPreview);
  else blastPreview();
})();
