"""Files sent with a complaint: checked by their bytes, kept by hash, refused clearly when wrong."""

from __future__ import annotations

import gc
import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from complaints_app.extensions import db
from complaints_app.models import Attachment, Complaint

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM = {"customer_name": "Ola", "customer_phone": "+48 600 100 200", "channel": "phone", "category": "billing",
        "description": "Charged twice", "claimed_amount": "59.90", "currency": "PLN", "language": "pl",
        "jurisdiction": "PL", "regime": "consumer"}


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_register_with_files_and_download_them(login, people, app):
    client = login(people.staff)
    response = client.post("/complaints/new", data={**FORM, "attachments": [
        (io.BytesIO(PDF), "invoice.pdf"), (io.BytesIO("Rachunek: 59,90 zł".encode()), "note.txt")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    files = list(db.session.scalars(select(Attachment).where(Attachment.complaint_id == complaint.id)
                                    .order_by(Attachment.id)))
    assert [(f.filename, f.content_type) for f in files] == [("invoice.pdf", "application/pdf"),
                                                             ("note.txt", "text/plain")]
    stored = Path(app.extensions["complaints.settings"].attachments_path) / files[0].sha256[:2] / files[0].sha256
    assert stored.read_bytes() == PDF and files[0].sha256 == hashlib.sha256(PDF).hexdigest()
    page = client.get(f"/complaints/{reference}").data.decode()
    link = re.search(r'href="(/attachments/\d+)">invoice.pdf', page).group(1)
    download = client.get(link)
    assert download.data == PDF and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()


def test_a_wrong_file_is_refused_and_nothing_is_registered(login, people):
    client = login(people.staff)
    before = (count(Complaint), count(Attachment))
    response = client.post("/complaints/new", data={**FORM, "attachments": [
        (io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00binary"), "invoice.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.data.decode()
    assert 'id="attachments-error"' in html and "PDF, PNG, JPEG or plain text" in html
    assert 'value="Charged twice"' in html or "Charged twice" in html  # what was typed is kept
    assert (count(Complaint), count(Attachment)) == before


# Werkzeug's test client spools a large request body to a temporary file it never closes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_huge_file_is_refused(login, people, register):
    complaint = register(people.staff)
    client = login(people.staff)
    before = count(Attachment)
    response = client.post(f"/complaints/{complaint.reference}/attachments", content_type="multipart/form-data",
                           data={"attachments": [(io.BytesIO(b"a" * (10 * 1024 * 1024 + 1)), "big.txt")]})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "larger than 10 MB" in str(session["_flashes"])
    assert count(Attachment) == before
    too_big = client.post(f"/complaints/{complaint.reference}/attachments", content_type="multipart/form-data",
                          data={"attachments": [(io.BytesIO(b"a" * (51 * 1024 * 1024)), "huge.txt")]})
    assert too_big.status_code == 413
    del response, too_big
    gc.collect()  # let the spooled bodies go here, where their warning is expected


def test_another_teams_staff_cannot_download(login, people, register, make_user):
    from complaints_app.domain.attachments import add_attachment, read_upload

    complaint = register(people.staff)
    attachment = add_attachment(people.staff, complaint, read_upload("a.pdf", io.BytesIO(PDF)))
    db.session.commit()
    outsider = make_user("staff", team="billing_team")
    response = login(outsider).get(f"/attachments/{attachment.id}")
    response.close()
    assert response.status_code == 404


@pytest.mark.parametrize("sent, kept", [("run.bat", "run.bat.txt"), ("invoice.exe", "invoice.exe.txt"),
                                        ("notes.TXT", "notes.TXT"), ("scan", "scan.txt"), ("data.csv", "data.csv")])
def test_a_file_keeps_an_ending_that_matches_its_content(sent, kept):
    import io

    from complaints_app.domain.attachments import read_upload

    assert read_upload(sent, io.BytesIO(b"echo hello\r\n")).filename == kept
    assert read_upload("photo.exe", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20)).filename == "photo.exe.png"
