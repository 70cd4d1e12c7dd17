"""The family's signed link in a message: a credential (whoever has it may choose or cancel
for the family), so it is never stored, not even in the rendered body.

A link goes into `outbox.queue` as a `SendTimeLink`: the stored body holds LINK_PLACEHOLDER
and the stored context LINK_KEY, and the dispatcher makes the link just before each send
(`with_send_time_link`), a retry too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2

from respijt.messages.texts import render
from respijt.models import OutboxMessage

# Context keys that are credentials (the requester's signed link): never stored, not even in
# the rendered body. A link goes in as a `SendTimeLink`: the stored body holds LINK_PLACEHOLDER
# and the context LINK_KEY, and the dispatcher builds the link just before the send.
SECRET_CONTEXT_KEYS = frozenset({"link"})
LINK_PLACEHOLDER = "[link]"
LINK_KEY = "link_for"


@dataclass(frozen=True)
class SendTimeLink:
    """A link that is a credential (the family's signed status link): made when the message is
    sent, never when it is queued. `key` says what it is for (the request's reference, not a
    secret); the text shows LINK_PLACEHOLDER until then."""

    key: str

    def __str__(self) -> str:
        return LINK_PLACEHOLDER


def stored_context(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the context to store, the context to render the stored body with): no credential in
    either; a `SendTimeLink` leaves its key in the one and its placeholder in the other."""
    link = context.get("link")
    if link is not None and not isinstance(link, SendTimeLink):
        raise TypeError("a link in a message is a SendTimeLink, made when the message is sent")
    stored = {k: v for k, v in context.items() if k not in SECRET_CONTEXT_KEYS}
    if link is not None:
        stored[LINK_KEY] = link.key
    return stored, dict(context)


# On the copy a backend gets: the pieces of its text around a send-time link, which a lookup of
# "was this message sent before?" looks for (an earlier attempt went out with another link).
TEXT_AROUND_LINK = "text_around_link"


def text_with_link(body: str, link: str | None) -> str:
    """`body` with the send-time link in place of its placeholder; without a link, the text
    without it (and without a colon that led up to it)."""
    if link:
        return body.replace(LINK_PLACEHOLDER, link)
    text = " ".join(body.replace(LINK_PLACEHOLDER, " ").split())
    return text[:-1] if text.endswith(":") else text


def with_send_time_link(
    copy: OutboxMessage, link_for: Callable[[str], str | None]
) -> OutboxMessage:
    """The unattached copy as it goes out: a message queued with a `SendTimeLink` gets the
    link made now (`link_for(key)`, None when it can no longer be made), so each attempt,
    a retry too, carries a fresh link; the stored row keeps the placeholder."""
    key = (copy.context or {}).get(LINK_KEY)
    if not key or LINK_PLACEHOLDER not in copy.body:
        return copy
    link = link_for(str(key))
    stored = copy.body
    if link:
        copy.body = text_with_link(stored, link)
        setattr(copy, TEXT_AROUND_LINK, tuple(stored.split(LINK_PLACEHOLDER)))
    else:
        copy.body = _text_without_link(copy.template, copy.context, stored)
        setattr(copy, TEXT_AROUND_LINK, (copy.body,))
    return copy


def _text_without_link(template: str, context: Mapping[str, Any], body: str) -> str:
    """The message as its template says it without a link; the stored text without the
    placeholder when the template cannot be rendered again (changed since it was queued)."""
    stored = {k: v for k, v in context.items() if k != LINK_KEY}
    try:
        return render(template, {**stored, "link": None})
    except (jinja2.TemplateError, TypeError, ValueError):
        return text_with_link(body, None)
