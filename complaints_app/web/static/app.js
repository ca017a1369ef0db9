// Small behaviours on top of server-rendered pages: due-date countdowns and the process diagram.
(function () {
  "use strict";

  function countdown() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var minutes = Math.round((due - now) / 60000);
      var abs = Math.abs(minutes);
      var text = abs >= 2880 ? Math.round(abs / 1440) + " d" : abs >= 120 ? Math.round(abs / 60) + " h" : abs + " min";
      el.classList.toggle("overdue", minutes < 0);
      if (!el.hasAttribute("data-when")) { el.setAttribute("data-when", el.textContent); }
      el.title = el.getAttribute("data-when");  // the moment itself, as the server wrote it for the reader
      el.textContent = minutes < 0 ? "−" + text : text;
    });
  }

  function duration(seconds) {
    if (seconds >= 172800) { return Math.round(seconds / 86400) + " d"; }
    if (seconds >= 7200) { return Math.round(seconds / 3600) + " h"; }
    if (seconds >= 60) { return Math.round(seconds / 60) + " min"; }
    return Math.max(0, Math.round(seconds)) + " s";  // not "1 min" for a task done in seconds
  }

  // The heatmap of a version: a badge per task (waiting now · median time), the busiest in the hottest colour.
  function heat(viewer, data) {
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var canvas = viewer.get("canvas");
    var most = 0;
    Object.keys(data).forEach(function (id) { most = Math.max(most, data[id].waiting); });
    Object.keys(data).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var h = data[id];
      var level = most ? Math.ceil(4 * h.waiting / most) : 0;
      canvas.addMarker(id, "heat-" + level);
      var badge = document.createElement("div");
      badge.className = "heat-badge heat-badge-" + level;
      badge.setAttribute("data-element", id);
      badge.textContent = h.waiting + (h.median_seconds !== undefined ? " · " + duration(h.median_seconds) : "");
      var box = document.getElementById("diagram");  // the page gives the words in the reader's language
      badge.title = h.waiting + " " + (box.getAttribute("data-text-waiting") || "waiting now") +
        (h.median_seconds !== undefined ? "; " + (box.getAttribute("data-text-median") || "median time in the task") +
          " " + duration(h.median_seconds) : "");
      overlays.add(id, "heat", { position: { top: -14, right: 10 }, html: badge });
      if (h.stuck) {  // stopped by a failed step: a red mark of its own, whatever the waiting count
        canvas.addMarker(id, "failed");
        var stop = document.createElement("div");
        stop.className = "heat-badge stuck-badge";
        stop.setAttribute("data-element", id);
        stop.textContent = "⚠ " + h.stuck;
        stop.title = h.stuck + " " + (box.getAttribute("data-text-stuck") || "stopped by a fault");
        overlays.add(id, "heat", { position: { bottom: -6, left: -10 }, html: stop });
      }
    });
  }

  // The buttons under a diagram: zoom about the middle, the whole diagram, back to where the complaint is.
  function diagramTools(box, canvas, here) {
    var tools = document.querySelector(".diagram-tools[data-for='" + box.id + "']");
    if (!tools) { return; }
    var actions = {
      "in": function () { canvas.zoom(Math.min(canvas.zoom() * 1.25, 4), "auto"); },
      "out": function () { canvas.zoom(Math.max(canvas.zoom() / 1.25, 0.05), "auto"); },
      "fit": function () { canvas.zoom("fit-viewport", "auto"); },
      "here": function () { canvas.zoom(0.8); canvas.scrollToElement(here); }
    };
    tools.querySelectorAll("[data-zoom]").forEach(function (button) {
      var name = button.getAttribute("data-zoom");
      if (name === "here") { button.hidden = !here; }
      button.addEventListener("click", function () {
        actions[name]();
        box.setAttribute("data-zoom", canvas.zoom().toFixed(2));
      });
    });
    tools.hidden = false;
  }

  function diagram() {
    var box = document.getElementById("diagram");
    if (!box || !window.BpmnJS) { return; }
    var tools = document.querySelector(".diagram-tools[data-for='" + box.id + "']");
    var words = {  // the minimap's own texts, in the page's language
      "Open minimap": tools && tools.getAttribute("data-text-open-minimap"),
      "Close minimap": tools && tools.getAttribute("data-text-close-minimap")
    };
    var modules = [{ translate: ["value", function (text) { return words[text] || text; }] }];
    if (window.DiagramJSMinimap) { modules.push(window.DiagramJSMinimap); }  // an overview of the whole diagram
    var viewer = new window.BpmnJS({ container: box, additionalModules: modules,
                                     minimap: { open: box.clientWidth > 700 } });
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        return viewer.importXML(data.xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          data.completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
          data.active.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "active"); } });
          (data.failed || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "failed"); } });
          if ((data.failed || []).length) { box.classList.add("has-failed"); }
          heat(viewer, data.heat || {});
          var here = data.active.map(function (id) { return registry.get(id); }).filter(Boolean)
            .sort(function (a, b) { return (a.type === "bpmn:BoundaryEvent") - (b.type === "bpmn:BoundaryEvent"); })[0];
          if (here) {
            canvas.zoom(0.8);
            canvas.scrollToElement(here);
          } else {
            canvas.zoom("fit-viewport", "auto");
          }
          diagramTools(box, canvas, here);
          box.setAttribute("data-ready", "true");
        });
      })
      .catch(function (err) {
        box.textContent = (box.getAttribute("data-text-error") || "The diagram could not be shown") + " (" + err.message + ").";
      });
  }

  // On a phone a list's rows stack (see app.css): each cell takes its column's heading as a label.
  function cellLabels() {
    document.querySelectorAll("table.list").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("colspan") && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  // A form sent back: move the focus to the list of what to correct, so a screen reader reads it and the
  // keyboard starts there (each item links to its field).
  function errorSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary) { return; }
    summary.focus();
    summary.addEventListener("click", function (event) {  // a link puts the caret in its field, not only near it
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      field.focus();
      field.scrollIntoView({block: "center"});
    });
  }

  function menu() {  // on a phone the main menu folds behind one button (without script it is simply shown)
    var header = document.querySelector("header.top");
    var toggle = header && header.querySelector(".menu-toggle");
    if (!toggle) { return; }
    header.classList.add("collapsible");
    function show(open) {
      header.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function () { show(!header.classList.contains("open")); });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("open")) { show(false); toggle.focus(); }
    });
  }

  // Reports: each canvas carries its chart's data (the same figures as the table under it); Chart.js draws it.
  function charts() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = JSON.parse(canvas.getAttribute("data-chart"));
      var money = data.money && new Intl.NumberFormat(document.documentElement.lang, { style: "currency", currency: data.money });
      canvas.chart = new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s) {
            return { label: s.name, data: s.values, backgroundColor: s.colour, maxBarThickness: 56 };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { position: "bottom" },
                     tooltip: { callbacks: { label: function (item) {
                       return item.dataset.label + ": " + (money ? money.format(item.raw) : item.raw); } } } },
          scales: { x: { stacked: true },
                    y: { stacked: true, beginAtZero: true, ticks: money ? { callback: function (v) { return money.format(v); } }
                                                                          : { precision: 0 } } }
        }
      });
      canvas.setAttribute("data-ready", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    menu();
    charts();
    errorSummary();
    cellLabels();
    countdown();
    setInterval(countdown, 30000);
    diagram();
  });
})();
