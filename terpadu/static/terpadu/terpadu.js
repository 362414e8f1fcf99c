/* Terpadu: the little behaviour that CSP ("script-src 'self'", no inline handlers) leaves to us.
   Every page works without it.
   - <form data-confirm="Yakin?">       asks before submitting (deactivations, rejections)
   - <select data-autosubmit>           submits its form on change (filters, page size)
   - <button data-print>                opens the print dialog (BNBA lists, letters) */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-print]");
    if (el) {
      event.preventDefault();
      window.print();
    }
  });
})();
