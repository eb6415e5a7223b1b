"""Build a notification e-mail from an event: Jinja2 templates, no I/O beyond reading them.

Each kind has one template per language (``templates/<lang>/<kind>.j2``)
with a ``subject`` and a ``body`` block (plain text). The HTML part, for
lines that chose HTML, wraps the same paragraphs in ``templates/layout.html.j2``
(escaped), so the two formats never say different things.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from faxcore.events.outbox import Event

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class LineMail:
    """A line's e-mail settings (R5, V8)."""

    number: str
    language: str = "fr"
    mail_format: str = "text"  # text | html
    mail_from: str = ""
    mail_from_name: str = ""
    audio_format: str = "wav"
    keep_voicemail: bool = True


@dataclass(frozen=True)
class Attachment:
    """A file to attach, already in its final format."""

    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class Parts:
    """What goes with the mail: attachments, and notices replacing the ones left out."""

    attachments: list[Attachment] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def language_of(line: LineMail) -> str:
    """``fr`` for French lines (``fr``, ``fr_CA``), English otherwise."""
    lang = line.language.split("_")[0].lower()
    return lang if lang in LANGUAGES else "en"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def _render_block(template: jinja2.Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def _duration(seconds: Any) -> str:
    total = round(float(seconds or 0))
    return f"{total // 60}:{total % 60:02d}"


def message_id(event_id: str, address: str) -> str:
    """Stable per (event, address): a resend after a crash carries the same Message-ID."""
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:12]
    return f"<{event_id}.{digest}@faxcore>"


def compose(event: Event, line: LineMail, address: str, parts: Parts,
            default_from: str, default_from_name: str) -> EmailMessage:
    """The complete message for one address."""
    lang = language_of(line)
    template = _env.get_template(f"{lang}/{event.kind.value}.j2")
    data = dict(event.data)
    context: dict[str, Any] = {
        "line": line.number, "data": data, "kind": event.kind.value,
        "caller": data.get("caller") or ("numéro masqué" if lang == "fr" else "unknown number"),
        "time": event.time.strftime("%d/%m/%Y %H:%M UTC" if lang == "fr"
                                    else "%Y-%m-%d %H:%M UTC"),
        "duration": _duration(data.get("duration_s")),
        "attachments": [a.filename for a in parts.attachments], "notices": parts.notices,
    }
    subject = " ".join(_render_block(template, "subject", context).split())
    body = _render_block(template, "body", context)
    if parts.notices:
        body += "\n\n" + "\n".join(parts.notices)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address(line.mail_from_name or default_from_name,
                          addr_spec=line.mail_from or default_from)
    msg["To"] = address
    msg["Date"] = format_datetime(event.time)
    msg["Message-ID"] = message_id(event.id, address)
    msg["X-Faxcore-Event"] = f"{event.kind.value} {event.id}"
    msg.set_content(body + "\n")
    if line.mail_format == "html":
        paragraphs = [p for p in body.split("\n\n") if p.strip()]
        html = _env.get_template("layout.html.j2").render(
            subject=subject, paragraphs=[p.splitlines() for p in paragraphs], lang=lang)
        msg.add_alternative(html, subtype="html")
    for item in parts.attachments:
        msg.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype,
                           filename=item.filename)
    return msg
