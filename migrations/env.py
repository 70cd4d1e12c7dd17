"""Alembic environment for respijt (Flask-Migrate).

SQLite: batch mode recreates tables, and with foreign keys on, dropping the old table would
cascade into child rows (STACK.md). Foreign keys are switched off outside any transaction for
the migration and checked afterwards with PRAGMA foreign_key_check.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    return target_db.engine


config.set_main_option(
    "sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    engine = get_engine()
    is_sqlite = engine.dialect.name == "sqlite"
    conf_args["render_as_batch"] = is_sqlite
    conf_args["compare_type"] = True

    with engine.connect() as connection:
        if is_sqlite:
            # The DBAPI connection is in autocommit mode here (respijt.database), so this
            # PRAGMA runs outside a transaction, where SQLite honours it.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if is_sqlite:
            raw = connection.connection.driver_connection
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if problems:
                raise RuntimeError(f"foreign key violations after migration: {problems[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
