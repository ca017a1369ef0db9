"""Checks that every name a diagram's expressions read is one something can set.

A gateway condition, timer, decision-table cell or script that reads a data key nothing writes fails
with a NameError on the first complaint that reaches it, long after the deploy. This check collects what
the files write (form fields, script assignments, the outputs of the decisions business rule tasks call,
message names, multi-instance and input/output variables) plus what the host declares (the data a
process starts with, what each service topic returns) and names every element reading anything else.

It answers "is it set anywhere", not "is it set on every path to here": the first is certain, the
second would refuse sound diagrams whose gateways keep a path from reading what it never set.
"""

from __future__ import annotations

import ast
import difflib
from typing import Callable, Iterable

from lxml import etree

from .lint import BPMN, CAMUNDA, ISO, NS, _compiles
from .scripting import script_builtins
from .types import DefinitionError
from .xml import parse_xml

Writes = Callable[[str, dict], Iterable[str]]


def unset_names(files: dict[str, bytes], provided: Iterable[str] = (), service_writes: Writes | None = None,
                key_properties: Iterable[str] = ()) -> list[dict]:
    """Problems for every read of a name nothing sets. ``provided``: keys the host puts in at start;
    ``service_writes(topic, properties)``: the keys a service task returns; ``key_properties``: element
    properties whose value names a data key the host reads (``required_role_var``)."""
    bpmn, decisions = _parts(files)
    written = written_names(files, provided, service_writes)
    known = sorted(written)
    problems: list[dict] = []
    for filename, root in bpmn:
        for node, what, names in _bpmn_reads(root, set(key_properties)):
            _report(problems, filename, node, what, names - written, known)
    for filename, decision in decisions:
        for node, what, names in _dmn_reads(decision):
            _report(problems, filename, node, what, names - written, known)
    return problems


def written_names(files: dict[str, bytes], provided: Iterable[str] = (),
                  service_writes: Writes | None = None) -> set[str]:
    """Every name diagram code may read: what the files and the host write, and the script builtins."""
    bpmn, decisions = _parts(files)
    written = set(provided) | set(script_builtins())
    for _, root in bpmn:
        written |= _bpmn_writes(root, service_writes)
    for _, decision in decisions:
        written |= {_first(o.get("name")) for o in decision.iter() if _local(o) == "output" and o.get("name")}
    return written


def _parts(files):
    """The BPMN roots, and the decisions their business rule tasks call."""
    roots = _roots(files)
    bpmn = [(name, root) for name, root in roots if etree.QName(root).namespace == BPMN]
    called = {task.get(f"{{{CAMUNDA}}}decisionRef") for _, root in bpmn
              for task in root.iter(f"{{{BPMN}}}businessRuleTask")}
    decisions = [(name, d) for name, root in roots if "DMN" in (etree.QName(root).namespace or "").upper()
                 for d in _children(root, "decision") if d.get("id") in called]
    return bpmn, decisions


def _roots(files):
    roots = []
    for name, data in sorted(files.items()):
        try:
            roots.append((name, parse_xml(data, name)))
        except DefinitionError:
            continue  # the parser reports a file it cannot read
    return roots


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(root, kind):
    return [n for n in root.iter() if _local(n) == kind]


def _first(name: str) -> str:
    return name.split(".")[0].strip()  # a dotted output ("a.b") lands in the key "a"


def _properties(node) -> dict:
    found = node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)
    return {p.get("name"): p.get("value") for p in found if p.get("name")}


def _bpmn_writes(root, service_writes: Writes | None) -> set[str]:
    written = {f.get("id") for f in root.iter(f"{{{CAMUNDA}}}formField") if f.get("id")}
    for message in root.iter(f"{{{BPMN}}}message"):
        written |= {message.get("name") or "", message.get("id") or ""}
    for node in root.iter():
        kind = _local(node)
        if kind == "dataObject":
            written |= {node.get("id") or "", node.get("name") or ""}
        elif kind == "multiInstanceLoopCharacteristics":
            written.add(node.get(f"{{{CAMUNDA}}}elementVariable") or "")
        elif kind == "outputParameter" or (kind == "out" and etree.QName(node).namespace == CAMUNDA):
            written.add(node.get("name") or node.get("target") or "")
        elif kind == "scriptTask":
            script = node.find(f"{{{BPMN}}}script")
            written |= _assigned(script.text if script is not None else "")
        elif kind == "serviceTask" and service_writes is not None and node.get(f"{{{CAMUNDA}}}topic"):
            written |= set(service_writes(node.get(f"{{{CAMUNDA}}}topic"), _properties(node)))
        for attribute in ("resultVariable",):
            written.add(node.get(f"{{{CAMUNDA}}}{attribute}") or "")
    written.discard("")
    return written


def _bpmn_reads(root, key_properties: set[str]):
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        for condition in flow.findall(f"{{{BPMN}}}conditionExpression"):
            yield flow, "the condition", _read(condition.text)
    for definition in root.iter(f"{{{BPMN}}}timerEventDefinition"):
        for child in definition:
            if _local(child) in ("timeDuration", "timeDate", "timeCycle") and not ISO.match((child.text or "").strip()):
                yield definition.getparent(), "the timer", _read(child.text)
    for task in root.iter(f"{{{BPMN}}}scriptTask"):
        script = task.find(f"{{{BPMN}}}script")
        text = script.text if script is not None else ""
        yield task, "the script", _read(text, "exec") - _assigned(text)
    for node in root.iter():
        if isinstance(node.tag, str) and key_properties:
            keys = {v.strip() for k, v in _properties(node).items() if k in key_properties and v and v.strip()}
            if keys:
                yield node, "its properties", keys


def _dmn_reads(decision):
    for node in decision.iter():
        kind = _local(node)
        text_node = next((c for c in node if _local(c) == "text"), None)
        text = (text_node.text if text_node is not None else "") or ""
        if kind == "inputExpression":
            yield decision, "an input expression", _read(text)
        elif kind == "outputEntry":
            yield node.getparent(), "an output cell", _read(text)
        elif kind == "inputEntry" and text.strip() and text.strip() != "-":
            cell = text.replace("?", "dmn_input_value")
            names = _read(cell) if _compiles(cell) is None else _read(f"dmn_input_value {cell}")
            yield node.getparent(), "an input cell", names - {"dmn_input_value"}


def _tree(text: str | None, mode: str):
    """The syntax tree of text the restricted environment accepts, else None (the lint names it)."""
    text = (text or "").strip()
    if not text or _compiles(text, mode) is not None:
        return None
    return ast.parse(text, mode=mode)


def _read(text: str | None, mode: str = "eval") -> set[str]:
    """Names an expression or script loads from outside itself (comprehension and lambda names are its own)."""
    tree = _tree(text, mode)
    if tree is None:
        return set()
    own = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    own |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
            for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a is not None}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - own


def _assigned(text: str | None) -> set[str]:
    """Names a script assigns at its top level: those become process data."""
    tree = _tree(text, "exec")
    if tree is None:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


FEEL_LITERALS = {"true": "True", "false": "False", "null": "None"}


def _report(problems, filename, node, what, missing, written):
    for name in sorted(missing):
        close = [FEEL_LITERALS[name]] if name in FEEL_LITERALS else difflib.get_close_matches(name, written, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problem = {"file": filename, "element_id": node.get("id") or "",
                   "message": f"{what} reads '{name}', which nothing sets: no form field, script, decision "
                              f"table, service or message of this process writes it{hint}"}
        if node.get("name"):
            problem["element_name"] = node.get("name")
        problems.append(problem)
