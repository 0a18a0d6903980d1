/* Behaviours that templates ask for with data attributes, so no page needs inline script
   (the Content-Security-Policy forbids it). Delegated from the document, so content swapped in
   by htmx behaves the same. */
(function () {
  "use strict";

  // <select data-submit-on-change>: choosing a value submits its form.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLElement && field.matches("[data-submit-on-change]") && field.form) {
      field.form.submit();
    }
  });

  // <button data-print>: prints the page.
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
})();
