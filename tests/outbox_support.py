"""The text of a queued message as it goes out: the stored row holds a placeholder for the
family's signed link, which the dispatcher makes at each send (`scheduler.jobs.copy_to_send`,
`care_requests.no_mobile.mail_text`). Tests that follow the link read it from here."""

from __future__ import annotations

from typing import Any

from respijt.care_requests import no_mobile
from respijt.models import FamilyNotice, OutboxMessage
from respijt.scheduler.jobs import copy_to_send


def text_as_sent(session: Any, message: OutboxMessage) -> str:
    """The SMS text the dispatcher would hand the backend now."""
    return copy_to_send(session, message).body


def mail_as_sent(session: Any, notice: FamilyNotice) -> str:
    """The e-mail text `send_family_mail` would send now."""
    return no_mobile.mail_text(session, notice)
