"""care requests: the rule of a series ("month:1" a weekend a month, "weeks:N")

Revision ID: 20261205_verwijzer
Revises: 20261205_family
Create Date: 2026-12-05 16:40:00

Additive: one nullable column. A series without a rule (NULL) is the older every-N-days series
of `series_every_days`; the stays themselves are stored in care_request_stay as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_verwijzer'
down_revision = '20261205_family'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_rule', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.drop_column('series_rule')
