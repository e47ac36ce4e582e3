// The portal's few behaviours, wired by data attributes (no inline script: the CSP allows none).
//   data-autosubmit                 a <select> that submits its form when changed
//   data-autosubmit-clear="field"   ... after emptying that field of the form
//   data-confirm="question"         a button (or link) that asks first
//   #blast-form[data-preview-url]   the blast preview follows the mapping
//   [data-menu-toggle]              the phone menu's button (opens/closes the header's menu)
//   [data-select-all="name"]        a checkbox that ticks every checkbox of that name in its form
//   [data-template-preview=prefix]  the template editor's live WhatsApp bubble for one language
(function () {
  "use strict";

  // The phone layout folds the menu only when this script runs (without it, it stays open).
  document.documentElement.classList.add("js");

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

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var open = toggle.closest(".topbar").classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all || !all.form) return;
    var boxes = all.form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]');
    boxes.forEach(function (box) { box.checked = all.checked; });
  });

  // WhatsApp's formatting on escaped text, as templatetags/whatsapp.py does it on the server.
  var FORMATS = [
    [/```([\s\S]+?)```/g, "<code>$1</code>"],
    [/(^|[^\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])/g, "$1<strong>$2</strong>"],
    [/(^|[^\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])/g, "$1<em>$2</em>"],
    [/(^|[^\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])/g, "$1<s>$2</s>"]
  ];
  var PLACEHOLDER = /\{\{\s*([0-9]{1,3})\s*\}\}/g;

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  function formatted(text) {
    var html = escapeHtml(text);
    FORMATS.forEach(function (format) { html = html.replace(format[0], format[1]); });
    return html;
  }

  function templatePreview(box) {
    var form = box.closest("form");
    var prefix = box.getAttribute("data-template-preview");
    var bubble = box.querySelector(".wa-bubble");
    var header = bubble.querySelector(".wa-header");
    var body = bubble.querySelector(".wa-body");
    var footer = bubble.querySelector(".wa-footer");
    var buttons = box.querySelector(".wa-buttons");
    var samplesBox = box.querySelector(".wa-samples");
    var samples = {};

    function value(name) {
      var field = form.elements[prefix + "-" + name];
      return field ? field.value : "";
    }
    function fill(text) {
      return text.replace(PLACEHOLDER, function (match, number) {
        return samples[number] || "[" + box.dataset.sampleLabel + " " + number + "]";
      });
    }
    function slots(text) {
      var found = [];
      text.replace(PLACEHOLDER, function (match, number) {
        if (found.indexOf(number) < 0) found.push(number);
        return match;
      });
      return found.sort(function (a, b) { return a - b; });
    }
    function sampleInputs(numbers) {
      // Inputs without a name: sample values only feed the preview, they are not saved.
      var shown = Array.prototype.map.call(samplesBox.querySelectorAll("input"), function (input) {
        return input.dataset.slot;
      });
      if (shown.join(",") === numbers.join(",")) return;
      samplesBox.textContent = "";
      numbers.forEach(function (number) {
        var id = prefix + "-sample-" + number;
        var label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = box.dataset.sampleInputLabel.replace("%s", "{{" + number + "}}");
        var input = document.createElement("input");
        input.type = "text";
        input.id = id;
        input.dataset.slot = number;
        input.value = samples[number] || "";
        samplesBox.appendChild(label);
        samplesBox.appendChild(input);
      });
    }
    function render() {
      var headerType = value("header_type");
      if (headerType === "text" && value("header_text")) {
        header.innerHTML = formatted(fill(value("header_text")));
        header.hidden = false;
      } else if (headerType && headerType !== "none" && headerType !== "text") {
        header.textContent = box.dataset.mediaLabel.replace("%s", headerType);
        header.hidden = false;
      } else {
        header.hidden = true;
      }
      var text = value("body");
      if (text) body.innerHTML = formatted(fill(text));
      else body.textContent = box.dataset.emptyLabel;
      body.classList.toggle("muted", !text);
      footer.textContent = value("footer");
      footer.hidden = !value("footer");
      buttons.textContent = "";
      if (value("url_button_text")) {
        var link = document.createElement("span");
        link.textContent = "\u2197 " + value("url_button_text");
        link.title = fill(value("url_button_url"));
        buttons.appendChild(link);
      }
      value("quick_replies").split("\n").forEach(function (line) {
        var reply = line.split("|")[0].trim();
        if (!reply) return;
        var button = document.createElement("span");
        button.textContent = reply;
        buttons.appendChild(button);
      });
      sampleInputs(slots((headerType === "text" ? value("header_text") : "") + " " + text));
    }
    form.addEventListener("input", function (event) {
      if (event.target.dataset && event.target.dataset.slot && samplesBox.contains(event.target)) {
        samples[event.target.dataset.slot] = event.target.value;
      }
      render();
    });
    form.addEventListener("change", render);
    render();
  }

  function templatePreviews() {
    document.querySelectorAll("[data-template-preview]").forEach(templatePreview);
  }

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

  function start() {
    blastPreview();
    templatePreviews();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
