"""complaints from the public form in the database (no longer instance/feedback.jsonl)

Revision ID: 20261205_complaints
Revises: 20261122_satisfaction
Create Date: 2026-12-05 11:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_complaints'
down_revision = '20261122_satisfaction'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.String(length=10), nullable=True),
    sa.Column('page', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.CheckConstraint("rating IS NULL OR rating IN ('goed', 'matig', 'slecht')", name=op.f('ck_complaint_known_rating')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_complaint_region_id_region'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_region_id'), ['region_id'], unique=False)


def downgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_region_id'))
        batch_op.drop_index('ix_complaint_created_at')

    op.drop_table('complaint')
