// The process owners' modeller: bpmn-js with the Camunda 7 properties panel (forms, topics, timers,
// conditions, properties) and dmn-js for the decision tables, editing a draft kept on the server.
// Bundled by esbuild (`npm run build`, run by `make install`); nothing built is committed.
import BpmnModeler from "bpmn-js/lib/Modeler";
import DmnModeler from "dmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

import polish from "./translations-pl.js";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "dmn-js/dist/assets/dmn-js-shared.css";
import "dmn-js/dist/assets/dmn-js-drd.css";
import "dmn-js/dist/assets/dmn-js-decision-table.css";
import "dmn-js/dist/assets/dmn-js-decision-table-controls.css";
import "dmn-js/dist/assets/dmn-js-literal-expression.css";
import "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css";

function $(selector) { return document.querySelector(selector); }

// The editors speak the page's language (bpmn-js and dmn-js look every text up through "translate").
var WORDS = { pl: polish }[document.documentElement.lang] || {};

function translate(template, replacements) {
  var text = Object.prototype.hasOwnProperty.call(WORDS, template) ? WORDS[template] : template;
  return text.replace(/{([^}]+)}/g, function (whole, key) {
    return replacements && key in replacements ? replacements[key] : whole;
  });
}

var TranslateModule = { translate: ["value", translate] };

function csrfToken() { return $("meta[name=csrf-token]").getAttribute("content"); }

function post(url, body) {
  return fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  }).then(function (response) {
    return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
  });
}

function say(text, kind) {
  var box = $("#modeller-status");
  box.textContent = text;
  box.className = "flash " + (kind || "info");
}

function showProblems(problems, select) {
  var list = $("#modeller-problems");
  list.textContent = "";
  problems.forEach(function (problem) {
    var item = document.createElement("li");
    var where = problem.element_id ? problem.element_id + (problem.element_name ? " (" + problem.element_name + ")" : "") : (problem.file || "");
    if (problem.element_id) {
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link";
      link.textContent = where;
      link.addEventListener("click", function () { select(problem.file, problem.element_id); });
      item.appendChild(link);
    } else {
      item.appendChild(document.createTextNode(where));
    }
    item.appendChild(document.createTextNode(": " + problem.message));
    list.appendChild(item);
  });
}

// Offer the app's service topics where a service task's topic is typed (the properties panel renders
// its inputs anew as the selection changes).
function suggest() {
  new MutationObserver(function () {
    document.querySelectorAll("#properties input").forEach(function (input) {
      if (/externalTopic$/.test(input.id || "") && !input.getAttribute("list")) { input.setAttribute("list", "app-topics"); }
    });
  }).observe($("#properties"), { childList: true, subtree: true });
}

function start(root) {
  suggest();
  var url = root.getAttribute("data-draft");
  var editors = {};  // file name -> { kind, modeler, pane }
  var unsaved = false;  // edits since the last save or deploy
  window.addEventListener("beforeunload", function (event) {
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });
  var tabs = $("#modeller-tabs");
  var panes = $("#modeller-panes");

  // The file tabs answer the arrow keys, Home and End as tabs do (WAI-ARIA tabs, selection follows focus).
  tabs.addEventListener("keydown", function (event) {
    var all = Array.prototype.slice.call(tabs.querySelectorAll("[role=tab]"));
    var at = all.indexOf(document.activeElement);
    var to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (at < 0 || to === undefined) { return; }
    event.preventDefault();
    var next = all[(to + all.length) % all.length];
    next.focus();
    activate(next.textContent);
  });

  function activate(name) {
    Object.keys(editors).forEach(function (other) {
      editors[other].pane.hidden = other !== name;
      editors[other].tab.setAttribute("aria-selected", other === name ? "true" : "false");
      editors[other].tab.tabIndex = other === name ? 0 : -1;  // one stop in the tab order: the shown file
    });
    $("#properties").hidden = editors[name].kind !== "bpmn";
    if (editors[name].kind === "bpmn" && !editors[name].fitted) { fit(editors[name]); }
  }

  // The whole diagram in view, clear of the tool palette drawn over the canvas's left edge.
  function fit(editor) {
    if (editor.pane.hidden || !editor.pane.clientWidth) { return; }  // measured when its tab is shown
    var canvas = editor.modeler.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var palette = editor.pane.querySelector(".djs-palette");
    var box = canvas.viewbox();
    var width = editor.pane.clientWidth;
    var margin = palette ? palette.getBoundingClientRect().right - editor.pane.getBoundingClientRect().left + 16 : 0;
    if (margin > 0 && margin < width) {
      // Widen the view by r diagram units on the left so that, at the scale the wider view gets
      // (width / (w + r)), r is ``margin`` pixels: r = margin * w / (width - margin).
      var room = margin * box.width / (width - margin);
      canvas.viewbox({ x: box.x - room, y: box.y, width: box.width + room, height: box.height });
    }
    editor.fitted = true;
  }

  function select(file, elementId) {
    var editor = editors[file] || Object.values(editors).find(function (e) { return e.kind === "bpmn"; });
    if (!editor) { return; }
    activate(editor.name);
    if (editor.kind === "bpmn") {
      var element = editor.modeler.get("elementRegistry").get(elementId);
      if (element) {
        editor.modeler.get("selection").select(element);
        editor.modeler.get("canvas").scrollToElement(element);
      }
    }
  }

  function collect() {
    var names = Object.keys(editors);
    return Promise.all(names.map(function (name) { return editors[name].modeler.saveXML({ format: true }); }))
      .then(function (results) {
        var files = {};
        names.forEach(function (name, i) { files[name] = results[i].xml; });
        return files;
      });
  }

  function open(name, xml) {
    var kind = /\.dmn$/i.test(name) ? "dmn" : "bpmn";
    var number = Object.keys(editors).length;
    var pane = document.createElement("div");
    pane.className = "modeller-canvas";
    pane.id = "modeller-pane-" + number;
    pane.setAttribute("role", "tabpanel");
    pane.setAttribute("aria-labelledby", "modeller-tab-" + number);
    panes.appendChild(pane);
    var tab = document.createElement("button");
    tab.type = "button";
    tab.id = "modeller-tab-" + number;
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", pane.id);
    tab.className = "tab";
    tab.textContent = name;
    tab.addEventListener("click", function () { activate(name); });
    tabs.appendChild(tab);
    var modeler = kind === "bpmn"
      ? new BpmnModeler({
        container: pane,
        propertiesPanel: { parent: "#properties" },
        additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
          CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule, TranslateModule],
        moddleExtensions: { camunda: camundaModdle },
      })
      : new DmnModeler({  // each view takes its own modules (dmn-js does not merge "common" ones)
        container: pane,
        drd: { additionalModules: [TranslateModule] },
        decisionTable: { additionalModules: [TranslateModule] },
        literalExpression: { additionalModules: [TranslateModule] },
        boxedExpression: { additionalModules: [TranslateModule] },
      });
    editors[name] = { name: name, kind: kind, modeler: modeler, pane: pane, tab: tab };
    function changed() { unsaved = true; }
    if (kind === "bpmn") {
      modeler.on("commandStack.changed", changed);
    } else {  // dmn-js: each view (table, diagram) has its own command stack
      modeler.on("views.changed", function () {
        var viewer = modeler.getActiveViewer();
        if (viewer && !viewer.__watched) { viewer.__watched = true; viewer.on("commandStack.changed", changed); }
      });
    }
    return modeler.importXML(xml).then(function () {
      if (kind === "bpmn") { fit(editors[name]); }
      else {
        var views = modeler.getViews();
        var table = views.find(function (v) { return v.type === "decisionTable"; });
        if (table) { modeler.open(table); }
      }
    });
  }

  fetch(url + ".json", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (draft) {
      var names = Object.keys(draft.files).sort(function (a, b) {
        return (/\.bpmn$/i.test(b) ? 1 : 0) - (/\.bpmn$/i.test(a) ? 1 : 0) || a.localeCompare(b);
      });
      return names.reduce(function (chain, name) {
        return chain.then(function () { return open(name, draft.files[name]); });
      }, Promise.resolve()).then(function () {
        activate(names[0]);
        root.setAttribute("data-ready", "true");
        window.complaintsModeller = { editors: editors, collect: collect };
      });
    })
    .catch(function (err) { say(root.getAttribute("data-unopened") + " (" + err.message + ").", "error"); });

  $("#modeller-save").addEventListener("click", function () {
    collect().then(function (files) { return post(url, { files: files }); }).then(function (result) {
      if (result.ok) { unsaved = false; }
      say(result.ok ? root.getAttribute("data-saved") : result.data.error.message, result.ok ? "info" : "error");
    });
  });
  $("#modeller-validate").addEventListener("click", function () {
    collect().then(function (files) { return post(url + "/validate", { files: files }); }).then(function (result) {
      showProblems(result.data.problems || [], select);
      say(result.data.problems && result.data.problems.length ? root.getAttribute("data-problems") : root.getAttribute("data-valid"),
        result.data.problems && result.data.problems.length ? "error" : "info");
    });
  });
  $("#modeller-deploy").addEventListener("click", function () {
    if (!window.confirm(root.getAttribute("data-confirm"))) { return; }  // new complaints follow it at once
    var comment = $("#modeller-comment").value;
    collect().then(function (files) { return post(url + "/deploy", { files: files, comment: comment }); }).then(function (result) {
      if (result.ok) { unsaved = false; window.location.assign(result.data.url); return; }
      showProblems(result.data.problems || [], select);
      say(result.data.message || root.getAttribute("data-problems"), "error");
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("modeller");
  if (root) { start(root); }
});
