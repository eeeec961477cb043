/* Behaviour every page needs, without inline event handlers (the Content-Security-Policy forbids them).
   - the organization switcher in the top bar: choosing an organization opens it;
   - <form data-confirm="…"> / <button data-confirm="…">: ask before submitting;
   - <select data-autosubmit>: submit its form when the choice changes. */
(function () {
  "use strict";

  function setupSwitcher() {
    var form = document.querySelector("form.switcher");
    if (!form) return;
    var select = form.querySelector("select[name=o]");
    function go(event) {
      if (select && select.value) {
        if (event) event.preventDefault();
        window.location.href = select.value;
      }
    }
    form.addEventListener("submit", go);
    if (select) select.addEventListener("change", function () { go(null); });
  }

  function setupConfirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    document.querySelectorAll("button[data-confirm], input[type=submit][data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function setupAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { if (select.form) select.form.submit(); });
    });
  }

  // <… data-collapse="菜单">: on a phone the menu folds behind a button (CSS hides the entries under 720px)
  function setupCollapse() {
    document.querySelectorAll("[data-collapse]").forEach(function (nav) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "menu-toggle link";
      button.textContent = nav.getAttribute("data-collapse");
      button.setAttribute("aria-expanded", "false");
      nav.classList.add("collapsed");
      button.addEventListener("click", function () {
        var open = nav.classList.toggle("collapsed") === false;
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
      var anchor = nav.querySelector("strong, .brand");
      if (anchor && anchor.nextSibling) nav.insertBefore(button, anchor.nextSibling);
      else nav.appendChild(button);
    });
  }

  function init() {
    setupCollapse();
    setupSwitcher();
    setupConfirms();
    setupAutosubmit();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
