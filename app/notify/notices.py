"""Plain notices to a host (a calendar that cannot be read, a sign-in link): an ``email`` outbox
row made of a subject and lines of text, sent by the worker like every email (or logged without
SMTP)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from markupsafe import Markup

from app.db.models import OutboxMessage


def notice_email(to: str, subject: str, lines: list[str], now: datetime) -> OutboxMessage:
    """Lines become paragraphs of the HTML part; one that is a URL becomes a link."""

    def paragraph(line: str) -> str:
        if line.startswith(("https://", "http://")):
            return Markup('<p><a href="{0}">{0}</a></p>').format(line)
        return f"<p>{escape(line)}</p>"

    return OutboxMessage(
        kind="email",
        payload={
            "to": to,
            "subject": subject,
            "text": "\n".join(lines),
            "html": "".join(paragraph(line) for line in lines if line),
            "ics": "",
            "icsMethod": "",
        },
        available_at=now,
        created_at=now,
    )
