"""coordinator regions: regions of API tokens, region of outbox messages

Revision ID: 20261122_coordinator_regions
Revises: 20261122_accounts
Create Date: 2026-11-22 13:30:00

Coordinator tokens made before this revision have no region and so see no region's data
(fail closed): revoke them and create new ones with --region. Messages queued before it have no
region: only an admin lists them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261122_coordinator_regions'
down_revision = '20261122_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token_region',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_api_token_region_region_id_region')),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_api_token_region_token_id_api_token')),
    sa.PrimaryKeyConstraint('token_id', 'region_id', name=op.f('pk_api_token_region'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_region_id'), ['region_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_region_id_region'), 'region', ['region_id'], ['id'])


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_region_id_region'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_region_id'))
        batch_op.drop_column('region_id')

    op.drop_table('api_token_region')
