"""Read models: what a page or an API response shows of a complaint."""

from __future__ import annotations

from lxml import etree
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from flask_babel import gettext as _

from ..extensions import db
from ..models import (
    AuditEvent,
    Compensation,
    Complaint,
    DefinitionFile,
    HumanTask,
    Incident,
    Letter,
    ProcessDefinition,
    User,
    UserRole,
    WorkflowInstance,
)
from ..workflow import listed
from ..workflow.xml import parse_xml
from .driver import load
from .errors import NotFound
from .this_transaction import in_session, last_saved_run, was_registered_here, written


def usernames(ids, column=User.username) -> dict[int, str]:
    """Names of users by id (``column=User.display_name`` for pages)."""
    ids = {i for i in ids if i}
    found = {}
    if column is User.username:  # users the request has loaded already (the caller, say) need no read
        for user_id in list(ids):
            user = db.session.identity_map.get(identity_key(User, user_id))
            if user is not None and "username" in user.__dict__:
                found[user_id] = user.username
                ids.discard(user_id)
    if ids:
        found.update(db.session.execute(select(User.id, column).where(User.id.in_(ids))).all())
    return found


def complaint_story(complaint: Complaint) -> dict:
    """Everything recorded about a complaint, oldest first (the caller has checked access)."""
    cid = complaint.id
    # A complaint registered in this transaction: what it wrote is known, and needs no reading back.
    if was_registered_here(cid) and (saved := last_saved_run(cid)) is not None:
        instance = saved[0]
    else:
        instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == cid))
    if (rows := written(cid, "tasks")) is not None:
        tasks = sorted((HumanTask(**row) for row in rows if row["state"] == "open"), key=lambda t: t.created_at)
    else:
        tasks = list(db.session.scalars(select(HumanTask).where(HumanTask.complaint_id == cid,
                                                                HumanTask.state == "open")
                                        .order_by(HumanTask.created_at)))
    if (rows := written(cid, "audit")) is not None:
        history = [AuditEvent(**row) for row in rows]
    else:
        history = list(db.session.scalars(select(AuditEvent).where(AuditEvent.complaint_id == cid)
                                          .order_by(AuditEvent.id)))
    letters = list(db.session.scalars(select(Letter).where(Letter.complaint_id == cid).order_by(Letter.id)))
    if was_registered_here(cid):  # every ORM row about it is in the session: no need to look
        compensations, incidents = in_session(Compensation, cid), in_session(Incident, cid)
    else:
        compensations = list(db.session.scalars(select(Compensation).where(Compensation.complaint_id == cid)
                                                .order_by(Compensation.id)))
        incidents = list(db.session.scalars(select(Incident).where(Incident.complaint_id == cid)
                                            .order_by(Incident.id)))
    names = usernames([e.actor_id for e in history] + [t.assignee_id for t in tasks]
                      + [c.proposed_by_id for c in compensations] + [c.approved_by_id for c in compensations])
    return {"instance": instance, "tasks": tasks, "history": history, "letters": letters,
            "compensations": compensations, "incidents": incidents, "names": names,
            "elements": element_properties({e.definition_id for e in history},
                                           instance.definition_id if instance else None)}


def _elements(definition_id: int) -> dict:
    """A version's elements, read once per process (a version never changes: they are cached by its id and
    content); the version's row itself comes from the session when the request has it."""
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        return {}
    cache = current_app.extensions.setdefault("complaints.elements", {})
    key = definition.cache_key
    if key not in cache:
        cache[key] = definition.elements or {}
    return cache[key]


def element_properties(definition_ids, current: int | None = None) -> dict[str, dict]:
    """The diagram properties of each element of the given versions, by "<version id>:<element id>" (the
    history shows an element under its name in the reader's language, ``label:pl``); rows recorded without a
    version (a claim, say) take the ``current`` version's, under "None:<element id>"."""
    ids = [i for i in {*definition_ids, current} if i]
    if not ids:
        return {}
    found = {}
    for definition_id in ids:
        for element_id, element in _elements(definition_id).items():
            if element.get("properties"):
                found[f"{definition_id}:{element_id}"] = element["properties"]
                if definition_id == current:
                    found[f"None:{element_id}"] = element["properties"]
    return found


def localized_xml(process_file: DefinitionFile, language: str | None) -> str:
    """The diagram as drawn, every named element (task, event, lane, pool, labelled flow) named in
    ``language`` where the diagram gives a name in it: a ``label:pl`` property in the element's own extension
    elements, whichever modeller's namespace holds it. What the viewer shows; the file stored stays as
    deployed."""
    key = f"label:{language}"
    if not language or key.encode() not in process_file.content:
        return process_file.content.decode("utf-8", "replace")
    root = parse_xml(process_file.content, process_file.filename)
    for prop in root.iter():
        if not isinstance(prop.tag, str) or etree.QName(prop).localname != "property" or prop.get("name") != key:
            continue
        extension = prop.getparent().getparent()  # property < properties < extensionElements < the element
        if extension is None or etree.QName(extension).localname != "extensionElements":
            continue  # a form field's own properties name the field, not the element
        owner = extension.getparent()
        if owner is not None and owner.get("name") is not None and prop.get("value"):
            owner.set("name", prop.get("value"))
    return etree.tostring(root, encoding="unicode")


def diagram_position(complaint: Complaint, language: str | None = None) -> dict:
    """The complaint's diagram (its own version) with the elements passed, those waiting now and those a failed
    step stopped (an open incident)."""
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    if instance is None:
        raise NotFound(_("complaint %(reference)s has no process", reference=complaint.reference))
    files = list(db.session.scalars(select(DefinitionFile).where(
        DefinitionFile.definition_id == instance.definition_id, DefinitionFile.filename.like("%.bpmn"))))
    process_file = next((f for f in files if b'id="complaint"' in f.content), files[0] if files else None)
    if process_file is None:
        raise NotFound(_("the process diagram is missing"))
    rows = db.session.execute(select(AuditEvent.kind, AuditEvent.element_id, AuditEvent.task_id).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind.in_(
            ["element_entered", "element_left", "element_cancelled"]))).all()
    open_tokens: dict[str, str] = {}
    done: set[str] = set()
    for kind, element_id, task_id in rows:
        if kind == "element_entered":
            open_tokens[task_id] = element_id
        else:
            open_tokens.pop(task_id, None)
            if kind == "element_left":
                done.add(element_id)
    failed = db.session.scalars(select(Incident.element_id).where(
        Incident.complaint_id == complaint.id, Incident.resolved_at.is_(None), Incident.element_id.is_not(None)))
    return {"xml": localized_xml(process_file, language),
            "version": instance.definition.version,
            "completed": sorted(done), "active": sorted(set(open_tokens.values())), "failed": sorted(set(failed))}


def task_form_data(task: HumanTask) -> dict:
    """What the form of an open task starts with: the value a field's ``prefill`` property names, else its
    default. A value the process already holds under the field's own id is not offered: it is an earlier
    round's answer (an appeal's investigation would start from the decision appealed against) or a start
    value (``compensation_approved`` is false until someone approves), never this person's decision."""
    complaint = db.session.get(Complaint, task.complaint_id)
    _, run = load(complaint, None, lock=False)
    data = run.task_data(task.id)
    values = {}
    for field in task.form:
        prefill = (field.get("properties") or {}).get("prefill")
        if prefill and data.get(prefill) is not None:
            values[field["id"]] = data[prefill]
        elif field.get("default") not in (None, ""):
            values[field["id"]] = field["default"]
    return values


def _named_fields(definition_id: int) -> dict[str, dict]:
    """Every form field of a definition by id: a data key's label and type come from the field that asks
    for it, wherever in the diagram that is."""
    fields: dict[str, dict] = {}
    for element in _elements(definition_id).values():
        for field in element.get("form") or []:
            fields.setdefault(field["id"], field)
    return fields


def task_facts(task: HumanTask) -> list[dict]:
    """The facts the diagram's ``show`` property puts on a task's page (values as the task opened), each as
    ``{"field": ..., "value": ...}``. A key no form asks for is labelled by the task's properties
    ``show_label:<key>`` (``show_label:pl:<key>`` in Polish) and typed by ``show_type:<key>``."""
    keys = listed(task.properties, "show")
    if not keys:
        return []
    fields = _named_fields(task.definition_id)
    props = task.properties or {}
    facts = []
    for key in keys:
        value = (task.context or {}).get(key)
        if value is None or value == "":
            continue
        field = fields.get(key)
        if field is None:
            field = _unnamed_field(key, value, props)
        elif f"show_label:{key}" in props:  # the task names it its own way (several forms ask "Reason")
            named = _unnamed_field(key, value, props)
            field = {**field, "label": named["label"], "properties": {**(field.get("properties") or {}),
                                                                        **named["properties"]}}
        facts.append({"field": field, "value": value})
    return facts


def _unnamed_field(key: str, value, props: dict) -> dict:
    translations = {}
    for name, text in props.items():
        parts = name.split(":")
        if len(parts) == 3 and parts[0] == "show_label" and parts[2] == key:
            translations[f"label:{parts[1]}"] = text
    return {"id": key, "label": props.get(f"show_label:{key}") or key.replace("_", " ").capitalize(),
            "type": props.get(f"show_type:{key}") or ("boolean" if isinstance(value, bool) else "string"),
            "properties": translations}


def task_answers(task: HumanTask) -> list[dict]:
    """What the person who completed a task entered, field by field (from the audit), for its page."""
    data = db.session.scalar(select(AuditEvent.data).where(
        AuditEvent.complaint_id == task.complaint_id, AuditEvent.task_id == task.id,
        AuditEvent.kind == "task_completed").order_by(AuditEvent.id.desc()).limit(1)) or {}
    return [{"field": field, "value": data[field["id"]]} for field in task.form
            if data.get(field["id"]) not in (None, "")]


def eligible_users(task: HumanTask) -> list[User]:
    """Active people who hold the task's role (managers count as supervisors)."""
    roles = [task.role, "manager"] if task.role == "supervisor" else [task.role]
    return list(db.session.scalars(select(User).where(
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))), User.is_active_user.is_(True))
        .order_by(User.display_name)))


def proposed_compensations(complaint_ids) -> dict[int, Compensation]:
    """The latest compensation proposed (and not yet decided) of each complaint, in one read."""
    ids = set(complaint_ids)
    if not ids:
        return {}
    found = {}
    for compensation in db.session.scalars(select(Compensation).where(
            Compensation.complaint_id.in_(ids), Compensation.status == "proposed").order_by(Compensation.id)):
        found[compensation.complaint_id] = compensation  # the later one wins
    return found
