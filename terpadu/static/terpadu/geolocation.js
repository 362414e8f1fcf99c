/* Terpadu verivali: "Ambil lokasi" fills the latitude/longitude inputs from the device's GPS.
   CSP-friendly (no inline handlers). Markup:
   <button data-geolocate>  <span data-geo-status>  <input data-geo="lat">  <input data-geo="lon">
   Without JavaScript or GPS the enumerator types the coordinates by hand. */
(function () {
  "use strict";
  function status(form, text) {
    var el = form.querySelector("[data-geo-status]");
    if (el) { el.textContent = text; }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-geolocate]");
    if (!button) { return; }
    event.preventDefault();
    var form = button.form || document;
    if (!("geolocation" in navigator)) {
      status(form, "Perangkat tidak mendukung GPS; isi lintang/bujur secara manual.");
      return;
    }
    status(form, "Mencari lokasi…");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = form.querySelector("[data-geo='lat']");
      var lon = form.querySelector("[data-geo='lon']");
      if (lat) { lat.value = pos.coords.latitude.toFixed(6); }
      if (lon) { lon.value = pos.coords.longitude.toFixed(6); }
      status(form, "Lokasi diambil (akurasi ± " + Math.round(pos.coords.accuracy) + " m).");
      button.disabled = false;
    }, function (err) {
      status(form, "Lokasi tidak dapat diambil (" + err.message + "); isi secara manual.");
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
})();
