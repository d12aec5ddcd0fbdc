// A field marked data-submit-on-change submits its form when changed (language switch, period picker).
// Kept out of the templates: the Content-Security-Policy forbids inline event handlers.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("[data-submit-on-change]") && field.form) field.form.submit();
});
