"""abuse limits: failed sign-in throttle, Idempotency-Key of care requests

Revision ID: 20261205_abuse_limits
Revises: 20261205_complaints
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_abuse_limits'
down_revision = '20261205_complaints'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_failure_at'), ['last_failure_at'], unique=False)

    op.create_table('request_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=140), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['care_request.id'], name=op.f('fk_request_idempotency_request_id_care_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_idempotency')),
    sa.UniqueConstraint('caller', 'idempotency_key', name='uq_request_idempotency_caller_key')
    )
    with op.batch_alter_table('request_idempotency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_idempotency_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('request_idempotency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_idempotency_request_id'))
    op.drop_table('request_idempotency')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_failure_at'))
    op.drop_table('login_throttle')
