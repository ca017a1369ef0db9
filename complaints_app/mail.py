"""Deliver e-mail: to an outbox folder of .eml files (embedded default) or through SMTP."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlparse


class DeliveryFailed(Exception):
    """The message could not be handed over; it will be tried again."""


def outbox_name(message_id: str) -> str:
    """The outbox file of a message: the same Message-ID always lands in the same file."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<>")) + ".eml"


def deliver(message: EmailMessage, mail_url: str, outbox: Path) -> str:
    """Hand the message over; returns where it went."""
    if not mail_url:
        outbox.mkdir(parents=True, exist_ok=True)
        name = outbox_name(message["Message-ID"])
        with tempfile.NamedTemporaryFile(dir=outbox, delete=False) as tmp:
            tmp.write(message.as_bytes())
        os.replace(tmp.name, outbox / name)
        return str(outbox / name)
    url = urlparse(mail_url)
    if url.scheme not in ("smtp", "smtps"):
        raise DeliveryFailed(f"unsupported mail URL scheme {url.scheme!r}")
    try:
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=30, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(url.hostname, url.port or 25, timeout=30)
        with client:
            if url.scheme == "smtp" and url.query == "starttls":
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}") from err
    return f"{url.hostname}:{url.port or 25}"
