"""report indexes: requests by creation time, reservations by departure

Revision ID: 20261205_reportsbench
Revises: 20261205_verwijzer
Create Date: 2026-12-05 17:00:00.000000

The figures of a month or year count the care requests created in it, and the claims and
leegstand of a month find the stays that overlap it. Without these indexes both read every
row of history, so a report grew with the years kept (bench/reports.py, docs/performance.md).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261205_reportsbench'
down_revision = '20261205_verwijzer'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.create_index('ix_care_request_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index('ix_reservation_departure', ['departure'], unique=False)


def downgrade():
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_index('ix_reservation_departure')
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.drop_index('ix_care_request_created_at')
