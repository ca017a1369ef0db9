"""What process owners read about a version: its changes against the one before, and where complaints
wait in it (the heatmap: how many wait at each task now, the median time spent in each)."""

from __future__ import annotations

from functools import lru_cache
from statistics import median

from lxml import etree
from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, DefinitionFile, HumanTask, Incident, ProcessDefinition, WorkflowInstance
from ..workflow import DefinitionError
from ..workflow.xml import parse_xml

# What a change to an element is reported as (the keys describe_spec gives).
ASPECTS = ("name", "type", "lane", "topic", "form", "expression", "script", "conditions", "properties")
NEWER_ASPECTS = ("expression", "script", "conditions")
HEAT_SAMPLE = 50_000  # audit rows read for the medians (the newest)


def process_name(definition: ProcessDefinition, language: str | None) -> str:
    """The process as its diagram names it, in ``language`` where it gives a ``label:<language>``: the pool's
    name (what a modeller shows), else the process element's, else its id."""
    return _process_name(definition.id, definition.content_hash, definition.process_id, language or "")


@lru_cache(maxsize=256)  # a deployed version never changes: its id and hash name its files for good
def _process_name(definition_id: int, _content_hash: str, process_id: str, language: str) -> str:
    names = {}
    for content, filename in db.session.execute(select(DefinitionFile.content, DefinitionFile.filename).where(
            DefinitionFile.definition_id == definition_id, DefinitionFile.filename.like("%.bpmn"))):
        try:
            root = parse_xml(content, filename)
        except DefinitionError:
            continue
        for node in root.iter():
            kind = _local(node)
            if (kind == "participant" and (node.get("processRef") or "").split(":")[-1] == process_id) or (
                    kind == "process" and node.get("id") == process_id):
                names.setdefault(kind, _own_label(node, f"label:{language}") or node.get("name"))
    return names.get("participant") or names.get("process") or process_id


def _own_label(node, key: str) -> str | None:
    """The element's own ``key`` property (extensionElements > properties > property), not a child's."""
    for extension in (c for c in node if _local(c) == "extensionElements"):
        for prop in (p for properties in extension if _local(properties) == "properties" for p in properties):
            if _local(prop) == "property" and prop.get("name") == key and prop.get("value"):
                return prop.get("value")
    return None


def previous_version(definition: ProcessDefinition) -> ProcessDefinition | None:
    return db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_id == definition.process_id, ProcessDefinition.version < definition.version)
        .order_by(ProcessDefinition.version.desc()).limit(1))


def change_summary(definition: ProcessDefinition, before: ProcessDefinition | None = None) -> dict:
    """Elements added, removed and changed (with what changed) against ``before`` (default: the
    previous version of the same process)."""
    before = before or previous_version(definition)
    new = definition.elements or {}
    old = (before.elements or {}) if before else {}
    # Versions deployed before expressions were recorded cannot be compared on them.
    recorded = {a for e in old.values() for a in NEWER_ASPECTS if a in e} if old else set(NEWER_ASPECTS)
    compared = [a for a in ASPECTS if a not in NEWER_ASPECTS or recorded]
    changed = []
    for element_id in sorted(set(new) & set(old)):
        aspects = [a for a in compared if new[element_id].get(a) != old[element_id].get(a)]
        if aspects:
            changed.append({**_named(element_id, new[element_id]), "changed": aspects})
    return {
        "against": before.version if before else None,
        "added": [_named(i, new[i]) for i in sorted(set(new) - set(old))],
        "removed": [_named(i, old[i]) for i in sorted(set(old) - set(new))],
        "changed": changed,
    }


def _named(element_id: str, element: dict) -> dict:
    return {"id": element_id, "name": element.get("name"), "type": element.get("type"),
            "properties": element.get("properties")}


def heatmap(definition: ProcessDefinition) -> dict[str, dict]:
    """Per element of the version: complaints waiting there now, those a failed step stopped there
    (``stuck``), and the median seconds spent in it."""
    heat: dict[str, dict] = {}
    for element_id, waiting in db.session.execute(select(HumanTask.element_id, func.count(HumanTask.id)).where(
            HumanTask.definition_id == definition.id, HumanTask.state == "open").group_by(HumanTask.element_id)):
        heat.setdefault(element_id, {})["waiting"] = waiting
    stopped = (select(Incident.element_id, func.count(func.distinct(Incident.complaint_id)))
               .join(WorkflowInstance, WorkflowInstance.complaint_id == Incident.complaint_id)
               .where(WorkflowInstance.definition_id == definition.id, Incident.resolved_at.is_(None),
                      Incident.element_id.is_not(None)).group_by(Incident.element_id))
    for element_id, stuck in db.session.execute(stopped):
        heat.setdefault(element_id, {})["stuck"] = stuck
    rows = db.session.execute(select(AuditEvent.task_id, AuditEvent.element_id, AuditEvent.kind, AuditEvent.at).where(
        AuditEvent.definition_id == definition.id, AuditEvent.element_type == "UserTask",
        AuditEvent.kind.in_(("element_entered", "element_left", "element_cancelled")))
        .order_by(AuditEvent.id.desc()).limit(HEAT_SAMPLE)).all()
    entered = {r.task_id: r.at for r in rows if r.kind == "element_entered"}
    spent: dict[str, list[float]] = {}
    for r in rows:
        if r.kind != "element_entered" and r.task_id in entered:
            spent.setdefault(r.element_id, []).append((r.at - entered[r.task_id]).total_seconds())
    for element_id, seconds in spent.items():
        heat.setdefault(element_id, {}).update(median_seconds=median(seconds), finished=len(seconds))
    for values in heat.values():
        values.setdefault("waiting", 0)
        values.setdefault("stuck", 0)
    return heat


def decision_tables(definition: ProcessDefinition) -> list[dict]:
    """The version's DMN decision tables as plain rows (inputs, outputs, rules) for reading."""
    tables = []
    for file in definition.files:
        if not file.filename.endswith(".dmn"):
            continue
        try:
            root = parse_xml(file.content, file.filename)
        except DefinitionError:
            continue
        for decision in (n for n in root.iter() if _local(n) == "decision"):
            table = next((n for n in decision if _local(n) == "decisionTable"), None)
            if table is None:
                continue
            tables.append({
                "file": file.filename, "id": decision.get("id"), "name": decision.get("name") or decision.get("id"),
                "hit_policy": table.get("hitPolicy") or "UNIQUE",
                "inputs": [c.get("label") or _text(c, "inputExpression") for c in table if _local(c) == "input"],
                "outputs": [c.get("label") or c.get("name") for c in table if _local(c) == "output"],
                "rules": [{"description": _text(r, "description"),
                           "inputs": [_text(e, "text") for e in r if _local(e) == "inputEntry"],
                           "outputs": [_text(e, "text") for e in r if _local(e) == "outputEntry"]}
                          for r in table if _local(r) == "rule"],
            })
    return tables


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _text(node, name: str) -> str:
    """The text of ``node``'s child ``name`` (or of its ``text`` grandchild), stripped."""
    for child in node.iter():
        if child is not node and _local(child) == name:
            inner = next((c for c in child if _local(c) == "text"), None)
            return ((inner.text if inner is not None else child.text) or "").strip()
    return ""
