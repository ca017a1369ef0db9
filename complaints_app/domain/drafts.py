"""Drafts: a version's files being redrawn in the browser, saved on the server until deployed."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import DefinitionFile, ProcessDefinition, ProcessDraft, User
from ..workflow.xml import MAX_FILE_BYTES
from .access import require_role
from .errors import Conflict, InvalidInput, NotFound
from .processes import deploy, validate

MAX_FILES = 20


def start_draft(actor: User, definition_id: int) -> ProcessDraft:
    """A new draft holding every file of a deployed version."""
    require_role(actor, "process_owner", "admin")
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(_("no such process version"))
    files = {f.filename: f.content.decode("utf-8", "replace") for f in db.session.scalars(
        select(DefinitionFile).where(DefinitionFile.definition_id == definition.id))}
    draft = ProcessDraft(process_id=definition.process_id, base_definition_id=definition.id, files=files,
                         created_by_id=actor.id, updated_by_id=actor.id)
    db.session.add(draft)
    db.session.flush()
    return draft


def get_draft(actor: User, draft_id: int) -> ProcessDraft:
    require_role(actor, "process_owner", "admin")
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(_("no draft %(id)s", id=draft_id))
    return draft


def open_drafts(actor: User) -> list[ProcessDraft]:
    require_role(actor, "process_owner", "admin")
    return list(db.session.scalars(select(ProcessDraft).where(ProcessDraft.deployed_definition_id.is_(None))
                                   .order_by(ProcessDraft.updated_at.desc())))


def clean_files(draft: ProcessDraft, files) -> dict[str, str]:
    """The files sent by the modeller: the draft's own names, BPMN or DMN XML text within the size limit."""
    if not isinstance(files, dict) or not files or len(files) > MAX_FILES:
        raise InvalidInput(_("send the draft's files"))
    cleaned = {}
    for name, text in files.items():
        if name not in draft.files or not isinstance(text, str):
            raise InvalidInput(_("the draft has no file %(name)s", name=str(name)[:100]))
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise InvalidInput(_("%(name)s is larger than %(mb)s MB", name=name, mb=MAX_FILE_BYTES // 1024 // 1024))
        cleaned[name] = text
    return {**draft.files, **cleaned}


def save_draft(actor: User, draft: ProcessDraft, files) -> ProcessDraft:
    if draft.deployed_definition_id is not None:
        raise Conflict(_("this draft was deployed already; start a new one from the version"))
    draft.files = clean_files(draft, files)
    draft.updated_by_id = actor.id
    db.session.flush()
    return draft


def _bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}


def check_draft(actor: User, draft: ProcessDraft, files=None) -> list[dict]:
    """The problems a deploy would report (none: it can be deployed)."""
    require_role(actor, "process_owner", "admin")
    try:
        validate(_bytes(clean_files(draft, files) if files else draft.files), draft.process_id)
    except InvalidInput as err:
        return err.details.get("problems", [{"message": err.message}])
    return []


def deploy_draft(actor: User, draft: ProcessDraft, comment: str | None, files=None) -> ProcessDefinition:
    """Save, check and deploy the draft as the next version (nothing is deployed on a problem)."""
    if files:
        save_draft(actor, draft, files)
    if draft.deployed_definition_id is not None:
        raise Conflict(_("this draft was deployed already; start a new one from the version"))
    definition = deploy(_bytes(draft.files), actor, (comment or "").strip()[:2000] or _("drawn in the browser"),
                        draft.process_id)
    draft.deployed_definition_id = definition.id
    db.session.flush()
    return definition
