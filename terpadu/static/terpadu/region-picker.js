/* Region picker (terpadu/regions/forms.py RegionPickerWidget).
 * Cascading selects: choosing a level loads the next one from /wilayah/<kode>/anak.
 * Search box: typing loads matches from /wilayah/cari; choosing one fills every level.
 * Both endpoints return <option> fragments and are fetched through htmx.ajax.
 * Event delegation, so pickers swapped in by htmx work without re-initialising.
 * No inline JS anywhere (CSP script-src 'self'). */
(function () {
  "use strict";
  if (window.terpaduRegionPicker) return; // the widget template may include this file twice
  window.terpaduRegionPicker = true;

  var WIDTH = { 1: 2, 2: 4, 3: 6, 4: 10 };

  function levels(picker) {
    return Array.prototype.slice.call(picker.querySelectorAll("select[data-region-level]"));
  }

  function clear(select) {
    // Keep only the placeholder; a level without a chosen parent cannot be used.
    var first = select.options[0];
    select.innerHTML = "";
    if (first && first.value === "") select.appendChild(first);
    select.value = "";
    select.disabled = true;
  }

  function childrenUrl(picker, digits) {
    var url = picker.dataset.childrenUrl.replace("/00/anak", "/" + digits + "/anak");
    return url + "?within=" + encodeURIComponent(picker.dataset.root || "");
  }

  function load(select, url) {
    return htmx.ajax("GET", url, { target: select, swap: "innerHTML" }).then(function () {
      select.disabled = false;
    });
  }

  function onLevelChange(picker, select) {
    var level = Number(select.dataset.regionLevel);
    levels(picker).forEach(function (s) {
      if (Number(s.dataset.regionLevel) > level) clear(s);
    });
    var next = picker.querySelector('select[data-region-level="' + (level + 1) + '"]');
    if (select.value && next) return load(next, childrenUrl(picker, select.value));
    return Promise.resolve();
  }

  // Walk from the top level down to `digits`, loading each level that lacks the option.
  function choose(picker, digits) {
    var chain = Promise.resolve();
    levels(picker).forEach(function (select) {
      var level = Number(select.dataset.regionLevel);
      chain = chain.then(function () {
        if (WIDTH[level] > digits.length) return null;
        var want = digits.slice(0, WIDTH[level]);
        var has = Array.prototype.some.call(select.options, function (o) { return o.value === want; });
        var ready = has ? Promise.resolve() : load(select, childrenUrl(picker, digits.slice(0, WIDTH[level - 1])));
        return ready.then(function () {
          select.disabled = false;
          select.value = want;
          return onLevelChange(picker, select);
        });
      });
    });
    return chain;
  }

  var timer = null;
  function search(picker, input) {
    var results = picker.querySelector("[data-region-results]");
    var q = input.value.trim();
    if (q.length < 2) { results.hidden = true; results.innerHTML = ""; return; }
    var params = new URLSearchParams({ q: q, within: picker.dataset.root || "" });
    if (picker.dataset.maxLevel !== "4") params.set("level", picker.dataset.maxLevel);
    htmx.ajax("GET", picker.dataset.searchUrl + "?" + params.toString(),
      { target: results, swap: "innerHTML" }).then(function () {
      results.hidden = results.options.length === 0;
    });
  }

  function pick(picker, results) {
    var option = results.options[results.selectedIndex];
    if (!option || !option.value) return;
    results.hidden = true;
    choose(picker, option.value).then(function () {
      var input = picker.querySelector("[data-region-search]");
      if (input) input.value = "";
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var picker = target.closest && target.closest("[data-region-picker]");
    if (!picker) return;
    if (target.matches("select[data-region-level]")) onLevelChange(picker, target);
  });

  // Results are taken on click or Enter, not on change: arrowing through a listbox fires
  // change on every step.
  document.addEventListener("click", function (event) {
    var results = event.target.closest && event.target.closest("[data-region-results]");
    if (results) pick(results.closest("[data-region-picker]"), results);
  });

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("[data-region-search]")) return;
    var picker = target.closest("[data-region-picker]");
    clearTimeout(timer);
    timer = setTimeout(function () { search(picker, target); }, 300);
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches) return;
    var picker = target.closest("[data-region-picker]");
    if (!picker) return;
    // Enter in the search box must not submit the outer form; arrow down moves into results.
    if (target.matches("[data-region-search]") && (event.key === "Enter" || event.key === "ArrowDown")) {
      event.preventDefault();
      var results = picker.querySelector("[data-region-results]");
      if (!results.hidden) { results.focus(); if (results.selectedIndex < 0) results.selectedIndex = 0; }
    } else if (target.matches("[data-region-results]") && event.key === "Enter") {
      event.preventDefault();
      pick(picker, target);
    }
  });
})();
