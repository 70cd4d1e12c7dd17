"""care request: when the family first opened the signed SMS link; whether the family may be
contacted (a verwijzer may say no); an e-mail address for a family without a mobile

Revision ID: 20261205_family
Revises: 20261205_near
Create Date: 2026-12-05 16:45:00.000000

Additive: three nullable / defaulted columns. A request from the public form may hold a bed
only once its link was opened (possession of the phone), see docs/family.md.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261205_family'
down_revision = '20261205_near'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_request') as batch:
        batch.add_column(sa.Column('link_opened_at', sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column('contact_family', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('contact_phone', sa.String(length=20), nullable=True))
    op.create_table(
        'family_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('template', sa.String(length=60), nullable=False),
        sa.Column('body', sa.String(length=1000), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by', sa.String(length=40), nullable=True),
        sa.CheckConstraint("kind IN ('email', 'callback')", name=op.f('ck_family_notice_kind_known')),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'done', 'failed')",
            name=op.f('ck_family_notice_status_known'),
        ),
        sa.ForeignKeyConstraint(
            ['request_id'], ['care_request.id'], name=op.f('fk_family_notice_request_id_care_request')
        ),
        sa.ForeignKeyConstraint(
            ['region_id'], ['region.id'], name=op.f('fk_family_notice_region_id_region')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_family_notice')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_family_notice_dedupe_key')),
    )
    op.create_index('ix_family_notice_status', 'family_notice', ['status', 'kind'])
    op.create_index(
        op.f('ix_family_notice_request_id'), 'family_notice', ['request_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_family_notice_request_id'), table_name='family_notice')
    op.drop_index('ix_family_notice_status', table_name='family_notice')
    op.drop_table('family_notice')
    with op.batch_alter_table('care_request') as batch:
        batch.drop_column('contact_phone')
        batch.drop_column('contact_email')
        batch.drop_column('contact_family')
        batch.drop_column('link_opened_at')
