// "Cetak sekarang" on a list opened for printing (?cetak=1): the browser's print dialog.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
