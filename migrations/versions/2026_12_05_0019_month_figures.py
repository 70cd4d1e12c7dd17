"""month figures: kept leegstand figures of finished months, covering indexes for requests and stays

Revision ID: 20261205_monthfigures
Revises: 20261205_reportsbench
Create Date: 2026-12-05 20:00:00.000000

A year's report read every night of every unit again (two million for the country) and every
request of the year row by row. The scheduler now counts each finished month once per unit
(`unit_month_occupancy`, `counted_month`); every change to a stay in a finished month raises
that month's count in `stay_month_change`, so kept figures that miss it are not used. The
request figures are counted in the database from one index that holds every column they
read; it replaces the index on `created_at` alone. The stays of a month are found from an
index on (departure, arrival), without reading the rows; it replaces the one on `departure`.
The nights of a period for many units are found by night, not unit by unit (PostgreSQL read
the whole table for a few nights).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_monthfigures'
down_revision = '20261205_reportsbench'
branch_labels = None
depends_on = None

REPORT_COLUMNS = [
    'created_at', 'status', 'municipality_id', 'target_group', 'funding', 'placed_at', 'arrival'
]


def upgrade():
    op.create_table(
        'stay_month_change',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_stay_month_change')),
    )
    op.create_table(
        'unit_month_occupancy',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('nights', sa.Integer(), nullable=False),
        sa.Column('published', sa.Integer(), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['unit_id'], ['unit.id'], name=op.f('fk_unit_month_occupancy_unit_id_unit')
        ),
        sa.PrimaryKeyConstraint('month', 'unit_id', name=op.f('pk_unit_month_occupancy')),
    )
    op.create_table(
        'counted_month',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('changes_seen', sa.Integer(), nullable=False),
        sa.Column('counted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_counted_month')),
    )
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.create_index('ix_care_request_report', REPORT_COLUMNS, unique=False)
        batch_op.drop_index('ix_care_request_created_at')
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index('ix_reservation_overlap', ['departure', 'arrival'], unique=False)
        batch_op.drop_index('ix_reservation_departure')
    op.create_index(
        'ix_night_inventory_night', 'night_inventory', ['night', 'unit_id', 'capacity']
    )


def downgrade():
    op.drop_index('ix_night_inventory_night', table_name='night_inventory')
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index('ix_reservation_departure', ['departure'], unique=False)
        batch_op.drop_index('ix_reservation_overlap')
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.create_index('ix_care_request_created_at', ['created_at'], unique=False)
        batch_op.drop_index('ix_care_request_report')
    op.drop_table('counted_month')
    op.drop_table('unit_month_occupancy')
    op.drop_table('stay_month_change')
