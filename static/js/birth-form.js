// Birth form: the kecamatan picker narrows the desa list, and the submit button is disabled after the
// first tap (the server also refuses a second copy through the form's submission key).
(function () {
  var form = document.getElementById("form-kelahiran");
  if (!form) return;
  var kecamatan = document.getElementById("id_kecamatan");
  var desa = document.getElementById("id_desa");
  function narrow() {
    var code = kecamatan.value;
    desa.querySelectorAll("optgroup").forEach(function (group) {
      var show = !code || group.dataset.kecamatan === code;
      group.hidden = !show;
      group.disabled = !show;
    });
    var chosen = desa.selectedOptions[0];
    if (chosen && chosen.parentElement.disabled) desa.value = "";
  }
  desa.addEventListener("change", function () {
    var group = desa.selectedOptions[0] && desa.selectedOptions[0].parentElement;
    if (group && group.dataset.kecamatan && kecamatan.value !== group.dataset.kecamatan) {
      kecamatan.value = group.dataset.kecamatan;
    }
  });
  kecamatan.addEventListener("change", narrow);
  narrow();
  form.addEventListener("submit", function () {
    form.querySelectorAll("[data-once]").forEach(function (b) { b.disabled = true; });
  });
})();
