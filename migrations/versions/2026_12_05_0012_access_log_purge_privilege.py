"""access log: purging only through the retention's own privilege; TRUNCATE and REPLACE refused

Revision ID: 20261205_access_log_purge
Revises: 20261205_abuse_limits
Create Date: 2026-12-05 10:00:00.000000

PostgreSQL: a session-settable switch (respijt.purge) no longer unlocks DELETE by itself. The
trigger lets a DELETE pass only when it runs as the owner of `access_log_purge()` (a SECURITY
DEFINER function owned by the role that ran this migration) with the switch on, which that
function sets around its own DELETE; EXECUTE on it is revoked from PUBLIC. A BEFORE TRUNCATE
trigger refuses TRUNCATE for everybody.

SQLite: the DELETE trigger asks the connection's function respijt_access_log_purge_permitted(),
which respijt registers answering 0 on every connection and switches to 1 only around the
purge's own DELETE (the permit table, which any SQL could fill, is dropped). A BEFORE INSERT
trigger refuses an INSERT over an existing id: INSERT OR REPLACE would otherwise delete the old
row without firing the DELETE trigger.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_access_log_purge'
down_revision = '20261205_abuse_limits'
branch_labels = None
depends_on = None

PG_PURGE = """
CREATE FUNCTION access_log_purge(cutoff timestamp without time zone) RETURNS bigint
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
PG_PURGE_PRIVATE = "REVOKE ALL ON FUNCTION access_log_purge(timestamp without time zone) FROM PUBLIC"
PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('respijt.purge', true) = 'on'
       AND current_user = (
           SELECT pg_get_userbyid(proowner) FROM pg_proc
           WHERE oid = 'access_log_purge(timestamp without time zone)'::regprocedure
       ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
PG_NO_TRUNCATE = """
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()
"""
# As created by 20261122_accounts.
PG_APPEND_ONLY_BEFORE = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('respijt.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

SQLITE_NO_DELETE = """
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
WHEN respijt_access_log_purge_permitted() IS NOT 1
BEGIN SELECT RAISE(ABORT, 'access_log is append-only (DELETE)'); END
"""
SQLITE_NO_REPLACE = """
CREATE TRIGGER access_log_no_replace BEFORE INSERT ON access_log
WHEN EXISTS (SELECT 1 FROM access_log WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'access_log is append-only (REPLACE)'); END
"""
SQLITE_NO_DELETE_BEFORE = """
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
WHEN NOT EXISTS (SELECT 1 FROM access_log_purge_permit)
BEGIN SELECT RAISE(ABORT, 'access_log is append-only (DELETE)'); END
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_PURGE)
        op.execute(PG_PURGE_PRIVATE)
        op.execute(PG_APPEND_ONLY)
        op.execute(PG_NO_TRUNCATE)
        op.drop_table('access_log_purge_permit')
    else:
        op.execute("DROP TRIGGER access_log_no_delete")
        op.execute(SQLITE_NO_DELETE)
        op.execute(SQLITE_NO_REPLACE)
        op.drop_table('access_log_purge_permit')


def downgrade():
    op.create_table('access_log_purge_permit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_purge_permit'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER access_log_no_truncate ON access_log")
        op.execute(PG_APPEND_ONLY_BEFORE)
        op.execute("DROP FUNCTION access_log_purge(timestamp without time zone)")
    else:
        op.execute("DROP TRIGGER access_log_no_replace")
        op.execute("DROP TRIGGER access_log_no_delete")
        op.execute(SQLITE_NO_DELETE_BEFORE)
