"""Deployed process versions: deploy files as a new immutable version, find the newest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, func, select

from flask_babel import gettext as _

from ..config import current_settings
from ..extensions import db
from ..models import Complaint, DefinitionFile, LaneRole, ProcessDefinition, User
from ..workflow import DefinitionError, ProcessRuntime, listed
from ..workflow.dataflow import unset_names
from ..workflow.lint import lint_files
from ..workflow.xml import parse_xml
from .errors import InvalidInput, NotFound
from .forms import check_form_definition
from .letter_checks import letter_problems
from .services import KEY_PROPERTIES, SERVICES, service_writes

STATUS_VALUES = ("open", "escalated", "awaiting_customer", "resolved", "closed", "withdrawn")


def runtime() -> ProcessRuntime:
    return current_app.extensions["complaints.runtime"]


def content_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def read_files(paths: list[Path]) -> dict[str, bytes]:
    """The deployable files among ``paths`` (folders are searched for .bpmn and .dmn)."""
    files = {}
    for path in paths:
        candidates = sorted([*path.glob("*.bpmn"), *path.glob("*.dmn")]) if path.is_dir() else [path]
        for candidate in candidates:
            files[candidate.name] = candidate.read_bytes()
    return files


def validate(files: dict[str, bytes], process_id: str = "complaint"):
    """Compile and check files for this app; raise InvalidInput listing every problem."""
    problems = lint_files(files)
    try:
        compiled = runtime().compile(files, process_id)
    except DefinitionError as err:
        raise InvalidInput("the diagram cannot be deployed", {"problems": err.problems + problems}) from None
    problems.extend(unset_names(files, start_keys(), service_writes, KEY_PROPERTIES))
    problems.extend(letter_problems(compiled.elements))
    mapped = set(db.session.scalars(select(LaneRole.lane)))
    for element in compiled.elements.values():
        if element.get("topic") and element["topic"] not in SERVICES:
            problems.append({"element_id": element["id"], "element_name": element["name"],
                             "message": f"unknown service topic '{element['topic']}'; known: {', '.join(sorted(SERVICES))}"})
        if element["manual"] and element.get("lane") not in mapped:
            problems.append({"element_id": element["id"], "element_name": element["name"],
                             "message": f"lane '{element.get('lane')}' is not mapped to a role"})
        if "form" in element:
            problems.extend(check_form_definition(element["id"], element["form"]))
        for value in listed(element["properties"], "statuses"):
            if value not in STATUS_VALUES:
                problems.append({"element_id": element["id"], "element_name": element["name"],
                                 "message": f"statuses lists '{value}', not one of {', '.join(STATUS_VALUES)}"})
        status = element["properties"].get("status")
        if status is not None and status not in STATUS_VALUES:
            problems.append({"element_id": element["id"], "element_name": element["name"],
                             "message": f"status '{status}' is not one of {', '.join(STATUS_VALUES)}"})
    if problems:
        raise InvalidInput("the diagram cannot be deployed", {"problems": problems})
    return compiled


def process_data(complaint: Complaint) -> dict:
    """The data a new process starts with (the keys ``bpmn/README.md`` documents)."""
    config = current_settings()
    return {
        "reference": complaint.reference,
        "category": complaint.category,
        "channel": complaint.channel,
        "product": complaint.product or "",
        "claimed_amount": float(complaint.claimed_amount or 0),
        "currency": complaint.currency,
        "jurisdiction": complaint.jurisdiction,
        "regime": complaint.regime,
        "language": complaint.language,
        "customer_reply_window": config.customer_reply_window,
        "followup_delay": config.followup_delay,
        "compensation_approved": False,
        "compensation_amount": 0.0,
        "decision": "",
    }


def start_keys() -> set[str]:
    """The data keys every process starts with, whatever the complaint."""
    return set(process_data(Complaint()))


def deploy(files: dict[str, bytes], actor: User | None, comment: str | None = None,
           process_id: str = "complaint") -> ProcessDefinition:
    """Store the files as the next version of ``process_id`` (a new immutable row)."""
    compiled = validate(files, process_id)
    latest = db.session.scalar(select(func.max(ProcessDefinition.version)).where(
        ProcessDefinition.process_id == process_id))
    definition = ProcessDefinition(
        process_id=process_id,
        version=(latest or 0) + 1,
        content_hash=content_hash(files),
        spec_json=compiled.spec_json,
        elements=compiled.elements,
        comment=comment,
        deployed_by_id=actor.id if actor else None,
        files=[DefinitionFile(filename=name, content=data) for name, data in sorted(files.items())],
    )
    db.session.add(definition)
    db.session.flush()
    return definition


def redeploy(actor: User, definition_id: int) -> ProcessDefinition:
    """Roll back: deploy an older version's files again, as the newest version."""
    old = db.session.get(ProcessDefinition, definition_id)
    if old is None:
        raise NotFound(_("no such process version"))
    files = {f.filename: f.content for f in old.files}
    return deploy(files, actor, _("version %(version)s deployed again", version=old.version), old.process_id)


_LATEST = select(ProcessDefinition).where(ProcessDefinition.process_id == bindparam("process_id")).order_by(
    ProcessDefinition.version.desc()).limit(1)  # built once: every registration reads it


def latest_definition(process_id: str = "complaint") -> ProcessDefinition:
    definition = db.session.scalar(_LATEST, {"process_id": process_id})
    if definition is None:
        raise NotFound(_("no version of process “%(process)s” is deployed; run “complaints init” or deploy one", process=process_id))
    return definition


def process_ids(data: bytes, filename: str) -> list[str]:
    """The ids of the processes a BPMN file defines."""
    root = parse_xml(data, filename)
    return [node.get("id") for node in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
            if node.get("id")]


def verdict(files: dict[str, bytes], name: str) -> dict:
    """Whether ``name`` (with the DMN files beside it) can be deployed here, and if not, why."""
    try:
        ids = process_ids(files[name], name)
        if not ids:
            return {"file": name, "accepted": False, "problems": [{"file": name, "message": "no process in the file"}]}
        problems = []
        dmn = {n: d for n, d in files.items() if n.endswith(".dmn")}
        for process_id in ids:
            try:
                validate({name: files[name], **dmn}, process_id)
            except InvalidInput as err:
                problems += [{"process": process_id, **p} for p in err.details.get("problems", [])]
        return {"file": name, "accepted": not problems, "processes": ids, "problems": problems}
    except DefinitionError as err:
        return {"file": name, "accepted": False, "problems": err.problems}
