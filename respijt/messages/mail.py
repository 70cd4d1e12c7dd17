"""E-mail: SMTP configured by the environment, or a console backend for development and tests.

Mail is sent after the transaction that caused it has committed (STYLE §4).
"""

from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from respijt.messages.backends import SendResult

log = logging.getLogger(__name__)

# Messages the console backend "sent", newest last; tests read and clear this.
outbox: list[EmailMessage] = []


@dataclass(frozen=True)
class MailSettings:
    backend: str
    sender: str
    host: str = "127.0.0.1"
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        return cls(
            backend=config["RESPIJT_MAIL_BACKEND"],
            sender=config["RESPIJT_MAIL_FROM"],
            host=config["RESPIJT_SMTP_HOST"],
            port=config["RESPIJT_SMTP_PORT"],
            username=config["RESPIJT_SMTP_USERNAME"],
            password=config["RESPIJT_SMTP_PASSWORD"],
            starttls=config["RESPIJT_SMTP_STARTTLS"],
        )


def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if settings.backend == "console":
        outbox.append(message)
        print(f"--- e-mail aan {to}: {subject}\n{body}\n---", file=sys.stderr)
        return
    if settings.backend != "smtp":
        raise RuntimeError(f"RESPIJT_MAIL_BACKEND must be smtp or console, not {settings.backend}")
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
    log.info("mail sent to %s: %s", to, subject)


OUTBOX_SUBJECT = "respijt: bericht voor het meldpunt"


def send_outbox_mail(settings: MailSettings, message: Any) -> SendResult:
    """Send an outbox row of the `email` channel (an alert whose recipients have no mobile):
    the same text as the SMS would have been. A refused address is permanent; a server that
    cannot be reached is transient (retried like an SMS)."""
    try:
        send_mail(settings, message.recipient, OUTBOX_SUBJECT, message.body)
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult("permanent", error_code="mail_refused", error=str(exc)[:300])
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult("transient", error_code="mail_error", error=str(exc)[:300])
    return SendResult("sent", provider_message_id=None)
