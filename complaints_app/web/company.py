"""What the company's letters say about it (administrators): the letterhead per country, the documents that
go with letters, the published complaints procedure, and every letter template with sample data."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain.access import require_role
from ..domain.addresses import POSTCODE_HINTS
from ..domain.enclosures import KNOWN as ENCLOSURES
from ..domain.enclosures import enclosure, upload
from ..domain.errors import InvalidInput
from ..domain.letter_templates import renderer
from ..domain.letterheads import REGISTRATION, REGISTRATION_LABELS, save_letterhead
from ..domain.letterheads import letterheads as all_letterheads
from ..domain.letters import sample_html, sample_pdf
from ..domain.standards import LANGUAGES as PROCEDURE_LANGUAGES
from ..domain.standards import published, save
from ..letters import LANGUAGES, LetterError, body_markup
from ..models.letters import ADR_PARTICIPATION

bp = Blueprint("company", __name__, url_prefix="/admin")
PLACES = ("PL-consumer", "PL-financial", "PL-payment_services", "GB-consumer", "GB-financial", "GB-payment_services",
          "UA-consumer")
MAX_ENCLOSURE_BYTES = 10 * 1024 * 1024


@bp.before_request
@login_required
def _admins_only():
    require_role(current_user, "admin")


@bp.get("/letterheads")
def letterheads():
    """The company's identity per country, and the documents that go with letters."""
    return _letterheads_page({}, {})


def _letterheads_page(errors: dict, typed: dict, status: int = 200):
    heads = all_letterheads()
    return render_template("admin_letterheads.html", heads=heads, registration=REGISTRATION,
                           registration_labels=REGISTRATION_LABELS, participation=ADR_PARTICIPATION,
                           hints=POSTCODE_HINTS, errors=errors, typed=typed, languages=LANGUAGES,
                           enclosures={key: enclosure(key) for key in ENCLOSURES}, known=ENCLOSURES), status


@bp.post("/letterheads/<country>")
def letterhead_save(country):
    try:
        save_letterhead(current_user, country, request.form.to_dict())
    except InvalidInput as err:
        flash(err.message, "error")
        return _letterheads_page({country: err.details.get("fields", {})}, {country: request.form.to_dict()}, 400)
    flash(_("The letterhead for %(country)s is saved; letters made from now on carry it.", country=country), "info")
    return redirect(url_for("company.letterheads") + f"#letterhead-{country}")


@bp.post("/enclosures/<key>")
def enclosure_upload(key):
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput(_("Choose the PDF to upload."))
    data = file.stream.read(MAX_ENCLOSURE_BYTES + 1)
    upload(current_user, key, file.filename, data)
    flash(_("Uploaded: letters made from now on enclose it."), "info")
    return redirect(url_for("company.letterheads") + "#enclosures")


@bp.route("/procedure", methods=["GET", "POST"])
def procedure():
    """The complaints procedure published at /standards, per language."""
    language = request.values.get("language", "pl")
    if language not in PROCEDURE_LANGUAGES:
        raise InvalidInput(_("The procedure is published in %(languages)s.", languages=", ".join(PROCEDURE_LANGUAGES)))
    if request.method == "POST":
        save(current_user, language, request.form.get("body", ""))
        flash(_("Published: /standards shows it now."), "info")
        return redirect(url_for("company.procedure", language=language))
    text = published(language)
    body = text.body if text is not None and text.language == language else ""
    return render_template("admin_procedure.html", language=language, languages=PROCEDURE_LANGUAGES, body=body,
                           text=text)


@bp.get("/letters")
def letters():
    """Every letter template, to preview in each language with sample data and the real letterhead."""
    return render_template("admin_letters.html", types=renderer().letter_types(), languages=LANGUAGES,
                           places=PLACES)


@bp.get("/letters/sample")
def letter_switch():
    """The preview's switches (a plain GET form) lead to the template's own address."""
    return redirect(url_for("company.letter_sample", letter_type=request.args.get("letter_type", "")[:60] or "-",
                            language=request.args.get("language", "")[:10] or "-",
                            place=request.args.get("place", "PL-consumer")[:40]))


@bp.get("/letters/<letter_type>/<language>")
def letter_sample(letter_type, language):
    """One template filled with sample data, formatted exactly as a real letter is, in the site's frame with
    switches for language and place (``?format=pdf``: the PDF as it would be sent)."""
    place = request.args.get("place", "PL-consumer")
    if place not in PLACES:
        raise InvalidInput(_("Choose a place from the list: %(places)s.", places=", ".join(PLACES)))
    if language not in LANGUAGES:
        raise InvalidInput(_("Letters are written in %(languages)s.", languages=", ".join(LANGUAGES)))
    jurisdiction, _sep, regime = place.partition("-")
    try:
        if request.args.get("format") == "pdf":
            return Response(sample_pdf(letter_type, language, jurisdiction, regime, current_user),
                            mimetype="application/pdf")
        html = sample_html(letter_type, language, jurisdiction, regime, current_user)
    except LetterError as err:
        raise InvalidInput(str(err)) from None
    return render_template("admin_letter.html", letter_type=letter_type, language=language, place=place,
                           body=body_markup(html), types=renderer().letter_types(), languages=LANGUAGES, places=PLACES)
