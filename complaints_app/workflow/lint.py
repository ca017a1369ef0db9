"""Checks a diagram before it is deployed, for what the parser accepts but the engine would run wrong:
modeller-style expressions (FEEL, JUEL, bare ISO durations), DMN cells that parse but never match,
hit policies the engine treats as FIRST, scripts the restricted environment refuses, user tasks without a
form, unreachable elements and dead ends. Each problem names the element and, where there is one, the
equivalent that works here."""

from __future__ import annotations

import ast
import re

from lxml import etree

from .scripting import ScriptRejected, compile_script
from .types import DefinitionError
from .xml import parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}
ISO = re.compile(r"^(R\d*/)?(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
                 r"|\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?)$")
RANGE = re.compile(r"^([\[\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]])$")
FIRST_LIKE = {"UNIQUE", "FIRST", "COLLECT", ""}
# Flow nodes that need no incoming flow, and those that need no outgoing one.
STARTS = {"startEvent", "boundaryEvent"}
ENDS = {"endEvent"}
NODES = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask",
         "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
         "eventBasedGateway", "intermediateCatchEvent", "intermediateThrowEvent", "startEvent", "endEvent",
         "boundaryEvent"}


def lint_files(files: dict[str, bytes]) -> list[dict]:
    """Problems of every file (a file that cannot be read at all is left to the parser to report)."""
    problems = []
    for name, data in sorted(files.items()):
        try:
            root = parse_xml(data, name)
        except DefinitionError:
            continue
        problems.extend(lint(root, name))
    return problems


def lint(root, filename: str) -> list[dict]:
    """Problems of one parsed BPMN or DMN file (an lxml root)."""
    namespace = etree.QName(root).namespace or ""
    problems: list[dict] = []
    if "DMN" in namespace.upper():
        _dmn(root, filename, problems)
    elif namespace == BPMN:
        _bpmn(root, filename, problems)
    return problems


def _problem(problems, node, filename, message, equivalent=None):
    problem = {"file": filename, "element_id": node.get("id") or "", "message": message}
    if node.get("name"):
        problem["element_name"] = node.get("name")
    if equivalent is not None:
        problem["equivalent"] = equivalent
        problem["message"] = f"{message}; write instead: {equivalent}"
    problems.append(problem)


def _compiles(text: str, mode: str = "eval") -> str | None:
    """None when the restricted environment accepts ``text``, else why not."""
    try:
        compile_script(text, mode)
    except ScriptRejected as err:
        return str(err)
    except (SyntaxError, ValueError, TypeError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def _imports(source: str) -> str | None:
    """Scripts compile with ``import`` but fail when run: say so before the deploy."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = [a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names]
    return f"modules cannot be imported here: {', '.join(names)}" if names else None


def python_equivalent(text: str) -> str:
    """A best translation of a FEEL or JUEL expression to Python."""
    text = text.strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", text, re.S)
    if match:
        text = match.group(1).strip()
    if text.startswith("="):  # Camunda 8 writes FEEL expressions as "=expr"
        text = text[1:].strip()
    text = re.sub(r"&&", " and ", text)
    text = re.sub(r"\|\|", " or ", text)
    text = re.sub(r"!(?!=)\s*", "not ", text)
    text = re.sub(r"\beq\b", "==", text)
    text = re.sub(r"\bne\b", "!=", text)
    text = re.sub(r"(?<![=!<>])=(?!=)", "==", text)  # FEEL equality
    text = re.sub(r"\btrue\b", "True", text)
    text = re.sub(r"\bfalse\b", "False", text)
    text = re.sub(r"\bnull\b", "None", text)
    return re.sub(r"\s+", " ", text).strip()


def _expression(problems, node, filename, text, what):
    text = (text or "").strip()
    if not text:
        return
    if re.fullmatch(r"[$#]\{.*\}", text, re.S) or text.startswith("="):
        dialect = "JUEL" if text[0] in "$#" else "FEEL"
        equivalent = python_equivalent(text)
        if _compiles(equivalent) is None:
            _problem(problems, node, filename, f"{what} {text!r} is {dialect}; expressions here are Python",
                     equivalent)
        else:
            _problem(problems, node, filename, f"{what} {text!r} is {dialect}; rewrite it as a Python expression "
                                               "over the process data")
        return
    why = _compiles(text)
    if why is not None:
        equivalent = python_equivalent(text)
        _problem(problems, node, filename, f"{what} {text!r} will not evaluate ({why})",
                 equivalent if equivalent != text and _compiles(equivalent) is None else None)


def _timer(problems, node, filename, text):
    text = (text or "").strip()
    if ISO.match(text):
        _problem(problems, node, filename, f"timer {text!r} is read as a Python expression, not as a literal",
                 f'"{text}"')
        return
    _expression(problems, node, filename, text, "timer")


def _bpmn(root, filename, problems):
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        for condition in flow.findall(f"{{{BPMN}}}conditionExpression"):
            _expression(problems, flow, filename, condition.text, "condition")
    for definition in root.iter(f"{{{BPMN}}}timerEventDefinition"):
        event = definition.getparent()
        for child in definition:
            if etree.QName(child).localname in ("timeDuration", "timeDate", "timeCycle"):
                _timer(problems, event, filename, child.text)
    for task in root.iter(f"{{{BPMN}}}scriptTask"):
        language = (task.get("scriptFormat") or "python").lower()
        script = task.find(f"{{{BPMN}}}script")
        if language not in ("python", "py", "python3"):
            _problem(problems, task, filename, f"script format {language!r}: scripts here are Python")
        elif script is not None and (script.text or "").strip():
            why = _compiles(script.text, "exec") or _imports(script.text)
            if why is not None:
                _problem(problems, task, filename, f"the script is refused ({why})")
    for task in root.iter(f"{{{BPMN}}}userTask"):
        if task.get(f"{{{CAMUNDA}}}formKey"):
            _problem(problems, task, filename, "a form key points outside the diagram; draw the fields "
                                               "(camunda:formData) so the app can show and check them")
        elif not task.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NS):
            _problem(problems, task, filename, "the user task has no form: give it at least one field "
                                               "(camunda:formData) recording what the person decided or did")
    for container in list(root.iter(f"{{{BPMN}}}process")) + list(root.iter(f"{{{BPMN}}}subProcess")):
        _graph(container, filename, problems)


def _graph(container, filename, problems):
    """Unreachable elements and dead ends among the container's own flow nodes."""
    nodes = [n for n in container if etree.QName(n).localname in NODES]
    if not nodes:
        return
    flows = [f for f in container if etree.QName(f).localname == "sequenceFlow"]
    targets = {f.get("targetRef") for f in flows}
    sources = {f.get("sourceRef") for f in flows}
    for node in nodes:
        kind = etree.QName(node).localname
        if node.get("triggeredByEvent") == "true" or node.find(f"{{{BPMN}}}linkEventDefinition") is not None:
            continue  # event subprocesses start on their event; link events jump
        if kind not in STARTS and node.get("id") not in targets and not _compensation(node):
            _problem(problems, node, filename, "no sequence flow leads here: it can never be reached")
        if kind not in ENDS and node.get("id") not in sources and not _compensation(node):
            _problem(problems, node, filename, "no sequence flow leaves here: a complaint would stop dead")


def _compensation(node) -> bool:
    return node.get("isForCompensation") == "true" or node.find(f"{{{BPMN}}}compensateEventDefinition") is not None


def _dmn(root, filename, problems):
    for table in root.iter():
        if not isinstance(table.tag, str) or etree.QName(table).localname != "decisionTable":
            continue
        decision = table.getparent()
        policy = (table.get("hitPolicy") or "").upper()
        if policy not in FIRST_LIKE:
            _problem(problems, decision, filename, f"hit policy {policy}: the engine takes the first matching rule "
                                                   "(FIRST); order the rules so the first match is the answer",
                     'hitPolicy="FIRST"')
        for entry in table.iter():
            if not isinstance(entry.tag, str):
                continue
            kind = etree.QName(entry).localname
            if kind not in ("inputEntry", "outputEntry"):
                continue
            text_node = next((c for c in entry if isinstance(c.tag, str) and etree.QName(c).localname == "text"), None)
            text = (text_node.text if text_node is not None else "") or ""
            rule = entry.getparent()
            if kind == "inputEntry":
                _input_cell(problems, rule, filename, text.strip())
            else:
                _expression(problems, rule, filename, text, "output cell")


def _input_cell(problems, rule, filename, text):
    if not text:
        return
    if text == "-":
        _problem(problems, rule, filename, "input cell '-' is FEEL for 'any'", "an empty cell")
        return
    match = RANGE.match(text)
    if match:
        low_bracket, low, high, high_bracket = match.groups()
        low_op = "<=" if low_bracket == "[" else "<"
        high_op = "<=" if high_bracket == "]" else "<"
        _problem(problems, rule, filename, f"input cell {text!r} is a FEEL range", f"{low} {low_op} ? {high_op} {high}")
        return
    negated = re.fullmatch(r"not\s*\((.*)\)", text, re.S)
    if negated:
        values = _split(negated.group(1))
        equivalent = f"? != {values[0]}" if len(values) == 1 else f"? not in ({', '.join(values)})"
        _problem(problems, rule, filename, f"input cell {text!r} is FEEL negation: here it never matches", equivalent)
        return
    values = _split(text)
    if len(values) > 1:
        _problem(problems, rule, filename, f"input cell {text!r} is a FEEL list: here it never matches",
                 f"? in ({', '.join(values)})")
        return
    if text in ("true", "false", "null"):
        _problem(problems, rule, filename, f"input cell {text!r} is FEEL", python_equivalent(text))
        return
    if _compiles(text) is not None and _compiles(f"v {text}") is not None and _compiles(
            text.replace("?", "v")) is not None:
        _problem(problems, rule, filename, f"input cell {text!r} will not evaluate ({_compiles(text)})")


def _split(text: str) -> list[str]:
    """Top-level comma-separated values (commas inside quotes or brackets do not split)."""
    values, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current.strip())
            current = ""
            continue
        current += char
    values.append(current.strip())
    return [v for v in values if v]
