"""Process owners: the deployed versions, each one's diagram, and deploying a new version from files."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select

from ..domain import drafts, migration, processes, versions
from ..domain.access import require_role
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..domain.services import SERVICES
from ..domain.views import localized_xml
from ..models import DefinitionFile, LaneRole, ProcessDefinition, User, WorkflowInstance
from ..unit_of_work import attempt
from .csp import CSP

bp = Blueprint("processes", __name__, url_prefix="/processes")
MAX_FILES = 20


@bp.before_request
@login_required
def _owners_only():
    require_role(current_user, "process_owner", "admin")


@bp.app_template_global()
def process_name(definition: ProcessDefinition) -> str:
    """The process as its diagram names it, in the reader's language (``versions.process_name``)."""
    return versions.process_name(definition, str(get_locale()))


def _versions() -> list[ProcessDefinition]:
    return list(db.session.scalars(select(ProcessDefinition).order_by(
        ProcessDefinition.process_id, ProcessDefinition.version.desc())))


@bp.get("")
def index():
    running, finished = {}, {}
    for definition_id, open_count, done_count in db.session.execute(select(
            WorkflowInstance.definition_id,
            func.sum(case((WorkflowInstance.is_completed.is_(False), 1), else_=0)),
            func.sum(case((WorkflowInstance.is_completed.is_(True), 1), else_=0)),
    ).group_by(WorkflowInstance.definition_id)):
        running[definition_id], finished[definition_id] = open_count, done_count
    deployed = _versions()
    authors = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({v.deployed_by_id for v in deployed if v.deployed_by_id})
    )).all()) if deployed else {}
    return render_template("processes.html", versions=deployed, running=running, finished=finished,
                           authors=authors, problems=[], drafts=drafts.open_drafts(current_user))


@bp.post("/deploy")
def deploy():
    """Deploy uploaded .bpmn and .dmn files as the next version, after the same checks as the CLI."""
    uploads = [f for f in request.files.getlist("files") if f and f.filename][:MAX_FILES]
    files = {f.filename.rsplit("/", 1)[-1]: f.read(6 * 1024 * 1024) for f in uploads}
    bad = [name for name in files if not name.endswith((".bpmn", ".dmn"))]
    if not files or bad:
        raise InvalidInput(_("upload .bpmn and .dmn files"))
    comment = (request.form.get("comment") or "").strip()[:2000] or None
    process_id = (request.form.get("process_id") or "complaint").strip()[:120]
    try:
        definition = processes.deploy(files, current_user, comment, process_id)
    except InvalidInput as err:
        flash(_("Nothing was deployed: the diagram has problems."), "error")
        return render_template("processes.html", versions=_versions(), running={}, finished={}, authors={},
                               problems=err.details.get("problems", [{"message": err.message}]),
                               drafts=drafts.open_drafts(current_user)), 400
    return _deployed(definition)


def _deployed(definition: ProcessDefinition):
    """Tell the owner (on the next page) and go to the new version."""
    flash(_("Deployed %(process)s version %(version)s: new complaints follow it.", process=definition.process_id,
            version=definition.version), "info")
    return redirect(url_for("processes.show", definition_id=definition.id))


@bp.get("/<int:definition_id>")
def show(definition_id):
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(_("no such process version"))
    heat = versions.heatmap(definition)
    return render_template("process.html", definition=definition, changes=versions.change_summary(definition),
                           heat=sorted(heat.items(), key=lambda item: (-item[1]["stuck"], -item[1]["waiting"])),
                           tables=versions.decision_tables(definition))


@bp.get("/<int:definition_id>/diagram")
def diagram(definition_id):
    definition = db.session.get(ProcessDefinition, definition_id)
    files = list(db.session.scalars(select(DefinitionFile).where(
        DefinitionFile.definition_id == definition_id, DefinitionFile.filename.like("%.bpmn"))))
    if definition is None or not files:
        raise NotFound(_("no such process version"))
    return jsonify({"xml": localized_xml(files[0], str(get_locale())),
                    "completed": [], "active": [],
                    "heat": versions.heatmap(definition)})


@bp.get("/<int:definition_id>/migration")
def migration_plan(definition_id):
    """Dry run: every running complaint on another version, and whether it can move here."""
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(_("no such process version"))
    candidates = migration.dry_run(current_user, definition_id)
    return render_template("migration.html", definition=definition, candidates=candidates)


@bp.post("/<int:definition_id>/migration")
def migration_run(definition_id):
    """Move one complaint (``complaint``) or every movable one (``all``); one that cannot move stays."""
    if request.form.get("all"):
        ids = [c.complaint_id for c in migration.dry_run(current_user, definition_id) if c.movable]
    else:
        raw = request.form.get("complaint", "")
        ids = [int(raw)] if raw.isdigit() and len(raw) < 12 else []
    moved = 0
    for complaint_id in ids:  # one that cannot move stays where it is; the others move
        try:
            with attempt():
                migration.migrate(current_user, definition_id, complaint_id)
            moved += 1
        except Conflict as err:
            flash(err.message, "error")
    flash(_("%(count)s complaint(s) moved to this version.", count=moved), "info")
    return redirect(url_for("processes.migration_plan", definition_id=definition_id))


@bp.post("/<int:definition_id>/redeploy")
def redeploy(definition_id):
    """Roll back: this version's files deployed again as the newest version."""
    definition = processes.redeploy(current_user, definition_id)
    return _deployed(definition)


@bp.post("/<int:definition_id>/drafts")
def draft_start(definition_id):
    """Open a version in the modeller: a new draft with its files."""
    draft = drafts.start_draft(current_user, definition_id)
    return redirect(url_for("processes.draft_page", draft_id=draft.id))


@bp.get("/drafts/<int:draft_id>")
def draft_page(draft_id):
    draft = drafts.get_draft(current_user, draft_id)
    lane_roles = list(db.session.scalars(select(LaneRole).order_by(LaneRole.lane)))
    response = make_response(render_template("modeller.html", draft=draft, topics=sorted(SERVICES),
                                             lane_roles=lane_roles))
    # The modeller's libraries add <style> elements; scripts stay 'self' only.
    response.headers["Content-Security-Policy"] = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return response


@bp.get("/drafts/<int:draft_id>.json")
def draft_files(draft_id):
    draft = drafts.get_draft(current_user, draft_id)
    return jsonify({"process_id": draft.process_id, "files": draft.files})


def _json() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(_("send a JSON object"))
    return body


def _json_error(err, status):
    return jsonify({"error": {"code": err.code, "message": err.message},
                    "message": err.message, "problems": err.details.get("problems", [])}), status


@bp.post("/drafts/<int:draft_id>")
def draft_save(draft_id):
    try:
        drafts.save_draft(current_user, drafts.get_draft(current_user, draft_id), _json().get("files"))
    except (InvalidInput, Conflict) as err:
        return _json_error(err, err.status)
    return jsonify({"saved": True})


@bp.post("/drafts/<int:draft_id>/validate")
def draft_validate(draft_id):
    draft = drafts.get_draft(current_user, draft_id)
    try:
        problems = drafts.check_draft(current_user, draft, _json().get("files"))
    except InvalidInput as err:
        return _json_error(err, err.status)
    return jsonify({"problems": problems})


@bp.post("/drafts/<int:draft_id>/deploy")
def draft_deploy(draft_id):
    body = _json()
    try:
        definition = drafts.deploy_draft(current_user, drafts.get_draft(current_user, draft_id), body.get("comment"),
                                         body.get("files"))
    except (InvalidInput, Conflict) as err:
        return _json_error(err, err.status)
    _deployed(definition)
    return jsonify({"version": definition.version, "url": url_for("processes.show", definition_id=definition.id)})
