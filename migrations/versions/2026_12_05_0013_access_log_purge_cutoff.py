"""access log: the purge function refuses a cutoff later than one year ago

Revision ID: 20261205_access_log_cutoff
Revises: 20261205_access_log_purge
Create Date: 2026-12-05 12:30:00.000000

PostgreSQL: whoever holds EXECUTE on access_log_purge(cutoff) could pass 'infinity' and empty
the whole log. The function now raises for a cutoff later than now() - 1 year (the shortest
RESPIJT_ACCESS_LOG_YEARS), whoever calls it. SQLite: nothing changes (no such function).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261205_access_log_cutoff'
down_revision = '20261205_access_log_purge'
branch_labels = None
depends_on = None

PG_PURGE_WITH_FLOOR = """
CREATE OR REPLACE FUNCTION access_log_purge(cutoff timestamp without time zone) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    removed bigint;
BEGIN
    IF cutoff IS NULL
       OR cutoff > (now() AT TIME ZONE 'UTC') - interval '1 year' THEN
        RAISE EXCEPTION 'access_log_purge: cutoff % is later than one year ago', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('respijt.purge', 'on', true);
    DELETE FROM access_log WHERE at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('respijt.purge', 'off', true);
    RETURN removed;
END;
$$
"""
# As created by 20261205_access_log_purge.
PG_PURGE_BEFORE = """
CREATE OR REPLACE FUNCTION access_log_purge(cutoff timestamp without time zone) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM set_config('respijt.purge', 'on', true);
    DELETE FROM access_log WHERE at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('respijt.purge', 'off', true);
    RETURN removed;
END;
$$
"""


def upgrade():
    # CREATE OR REPLACE keeps the function's owner and its grants (EXECUTE to the app role).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_PURGE_WITH_FLOOR)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_PURGE_BEFORE)
