"""Outgoing email: through SMTP when it is configured, else into the instance's outbox folder.

SMTP settings come from the environment (``ATTUNE_SMTP_HOST``, ``ATTUNE_SMTP_PORT``,
``ATTUNE_SMTP_USERNAME``, ``ATTUNE_SMTP_PASSWORD``, ``ATTUNE_SMTP_STARTTLS``, ``ATTUNE_MAIL_FROM``).
Without a host every message is written to ``INSTANCE/outbox/`` as an .eml file, which the
merchant admin lists, so the flows that send mail work and can be tested without a server.
"""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, parseaddr
from pathlib import Path

from flask import current_app

MERCHANT_HEADER = "X-Attune-Merchant"


@dataclass(frozen=True)
class OutboxMessage:
    """A message written to the outbox."""

    name: str
    to: str
    subject: str
    sent_at: str
    body: str


def send(
    to: str,
    subject: str,
    body: str,
    merchant_slug: str,
    *,
    html: str | None = None,
    sender_name: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send a message to ``to`` on behalf of a merchant: plain text, with an HTML alternative when given.

    ``sender_name`` (the shop's name) replaces the display name of ``MAIL_FROM``; the address stays
    the configured one, which the sending domain can vouch for. ``headers`` are added as they are
    (``List-Unsubscribe``, say).
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = sender(config["MAIL_FROM"], sender_name)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message[MERCHANT_HEADER] = merchant_slug
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if config.get("SMTP_HOST"):
        _send_smtp(message)
    else:
        _write_outbox(message)


def sender(mail_from: str, name: str | None) -> str:
    """Return the From header: ``name`` with the address of ``mail_from`` (its own name when ``name`` is None)."""
    configured_name, address = parseaddr(mail_from)
    return formataddr((name or configured_name, address))


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587), timeout=10) as smtp:
        if config.get("SMTP_STARTTLS", True):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def outbox_dir() -> Path:
    """Return the folder messages go to without SMTP."""
    return Path(current_app.instance_path) / "outbox"


def _write_outbox(message: EmailMessage) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(message.as_bytes(policy=policy.SMTP))
    temporary.replace(path)  # readers never see half a message


def outbox(merchant_slug: str, limit: int = 100) -> list[OutboxMessage]:
    """Return the newest messages written for one merchant, newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    found: list[OutboxMessage] = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if parsed[MERCHANT_HEADER] != merchant_slug:
            continue
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found.append(OutboxMessage(path.name, str(parsed["To"]), str(parsed["Subject"]), str(parsed["Date"]), text))
        if len(found) >= limit:
            break
    return found
