"""outbox and family notices: the family's signed link out of the stored texts

Revision ID: 20261206_outbox_link
Revises: 20261205_monthfigures
Create Date: 2026-12-06 09:00:00.000000

Until now a message to the family was stored with its signed status link (`/a/<token>`)
rendered in `outbox_message.body` and `family_notice.body`: whoever could read the outbox (an
admin through GET /api/v1/messages, the database, a backup) could act as the family for the
token's lifetime. From now on the texts hold the placeholder "[link]" and the dispatcher makes
the link at each send.

This migration brings the rows already there in line:
- messages not sent yet (pending, or sending: to be reconciled) get the placeholder and, in
  their context, the reference the link was made for (read from the token's own payload, which
  is signed, not encrypted), so they go out with a fresh link; one whose reference cannot be
  read gets the text without the link;
- every other message and every family notice (sent, failed, skipped, a call-back done) keeps
  its text with the placeholder instead of the token: the token stays valid for
  RESPIJT_REQUEST_LINK_DAYS and must not be readable from the history.
Pending e-mails to a family get their link made when sent, from the notice's request.

Downgrade leaves the texts as they are: the tokens are gone for good (that is the point).
"""
import base64
import json
import re
import zlib

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261206_outbox_link'
down_revision = '20261205_monthfigures'
branch_labels = None
depends_on = None

PLACEHOLDER = '[link]'
LINK_KEY = 'link_for'
# The public base URL, /a/, and the token (itsdangerous: payload.timestamp.signature).
SIGNED_LINK = re.compile(r'https?://\S+?/a/([A-Za-z0-9_\-.]*[A-Za-z0-9_\-])')
NOT_SENT = ('pending', 'sending')

outbox_message = sa.table(
    'outbox_message',
    sa.column('id', sa.Integer),
    sa.column('status', sa.String),
    sa.column('body', sa.Text),
    sa.column('context', sa.JSON),
)
family_notice = sa.table(
    'family_notice',
    sa.column('id', sa.Integer),
    sa.column('body', sa.String),
)


def reference_in(token):
    """The reference a signed link was made for, or None (its payload is readable)."""
    payload = token.split('.')[0] if not token.startswith('.') else token[1:].split('.')[0]
    try:
        data = base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4))
        if token.startswith('.'):
            data = zlib.decompress(data)
        value = json.loads(data)
    except (ValueError, zlib.error):
        return None
    return value if isinstance(value, str) else None


def without_links(body):
    """(the text with the placeholder for each link, the reference of the first link)."""
    references = [reference_in(found.group(1)) for found in SIGNED_LINK.finditer(body)]
    return SIGNED_LINK.sub(PLACEHOLDER, body), (references[0] if references else None)


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            outbox_message.c.id,
            outbox_message.c.status,
            outbox_message.c.body,
            outbox_message.c.context,
        ).where(outbox_message.c.body.like('%/a/%'))
    ).all()
    for row in rows:
        body, reference = without_links(row.body)
        if body == row.body:
            continue
        context = dict(row.context or {})
        if row.status in NOT_SENT:
            if reference:
                context[LINK_KEY] = reference
            else:  # nobody can make this link again: the text goes without it
                body = ' '.join(body.replace(PLACEHOLDER, ' ').split()).removesuffix(':')
        bind.execute(
            outbox_message.update()
            .where(outbox_message.c.id == row.id)
            .values(body=body, context=context)
        )
    notices = bind.execute(
        sa.select(family_notice.c.id, family_notice.c.body).where(
            family_notice.c.body.like('%/a/%')
        )
    ).all()
    for notice in notices:
        body, _ = without_links(notice.body)
        if body != notice.body:
            bind.execute(
                family_notice.update().where(family_notice.c.id == notice.id).values(body=body)
            )


def downgrade():
    pass
