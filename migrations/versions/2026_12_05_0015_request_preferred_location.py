"""care request: the place the family chose in the search (a preference, not a booking)

Revision ID: 20261205_near
Revises: 20261205_alerts
Create Date: 2026-12-05 16:40:00

"From a result to a request": the public search's "Vraag een logeerbed aan" carries the chosen
location to the form; the request keeps it, and matching prefers its units (docs/matching.md).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_near'
down_revision = '20261205_alerts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_location_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_care_request_preferred_location_id_location'),
            'location',
            ['preferred_location_id'],
            ['id'],
        )


def downgrade():
    with op.batch_alter_table('care_request', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_care_request_preferred_location_id_location'), type_='foreignkey'
        )
        batch_op.drop_column('preferred_location_id')
