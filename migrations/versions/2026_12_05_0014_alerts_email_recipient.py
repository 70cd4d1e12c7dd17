"""alerts: an outbox recipient may be an e-mail address

Revision ID: 20261205_alerts
Revises: 20261205_access_log_cutoff
Create Date: 2026-12-05 17:00:00.000000

An alert meant for a phone whose recipients have no mobile number goes by e-mail
(meldpunt/alerts.py), as an outbox row of the `email` channel: `outbox_message.recipient`
widens from 20 to 254 characters (an e-mail address). Widening only: every stored value fits,
and code that writes E.164 numbers keeps working.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261205_alerts'
down_revision = '20261205_access_log_cutoff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.alter_column(
            'recipient', existing_type=sa.String(length=20), type_=sa.String(length=254),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.alter_column(
            'recipient', existing_type=sa.String(length=254), type_=sa.String(length=20),
            existing_nullable=False,
        )
