"""care request: when the family first opened the signed SMS link; whether the family may be
contacted (a verwijzer may say no); an e-mail address for a family without a mobile

Revision ID: 20261205_family
Revises: 20261205_access_log_cutoff
Create Date: 2026-12-05 16:45:00.000000

Additive: three nullable / defaulted columns. A request from the public form may hold a bed
only once its link was opened (possession of the phone), see docs/family.md.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261205_family'
down_revision = '20261205_access_log_cutoff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_request') as batch:
        batch.add_column(sa.Column('link_opened_at', sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column('contact_family', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('care_request') as batch:
        batch.drop_column('contact_email')
        batch.drop_column('contact_family')
        batch.drop_column('link_opened_at')
