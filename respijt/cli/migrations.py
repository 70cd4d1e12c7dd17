"""`respijt db …`: Flask-Migrate's commands, with a downgrade that keeps the access log unless
told otherwise."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from respijt.cli.commands import fail
from respijt.extensions import db

# The revision that creates the access log: a downgrade below it drops every row (NEN 7513 asks
# for years of them), so `respijt db downgrade` goes there only when told explicitly.
ACCESS_LOG_REVISION = "20261122_accounts"


def downgrade_drops_access_log(revision: str, directory: str | None = None) -> bool:
    """Whether `db downgrade REVISION` would undo ACCESS_LOG_REVISION on this database. A
    target it cannot place (a branch expression, an unknown id) counts as yes."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config(directory)
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    if not any(ACCESS_LOG_REVISION in _lineage(script, head) for head in current):
        return False  # no access log yet
    try:
        target = _downgrade_target(script, current, revision)
    except Exception:
        return True
    return target is None or ACCESS_LOG_REVISION not in _lineage(script, target)


def _lineage(script: Any, revision: str) -> set[str]:
    """`revision` and every revision below it."""
    return {r.revision for r in script.iterate_revisions(revision, "base")}


def _downgrade_target(script: Any, current: tuple[str, ...], revision: str) -> str | None:
    if revision == "base":
        return None
    steps = revision.removeprefix("-")
    if revision.startswith("-") and steps.isdigit():
        if len(current) != 1:
            raise ValueError("relative downgrade from several heads")
        found: str | None = current[0]
        for _ in range(int(steps)):
            down = script.get_revision(found).down_revision if found else None
            if isinstance(down, tuple):
                raise ValueError("relative downgrade across a merge")
            found = down
        return found
    return str(script.get_revision(revision).revision)


def guarded_db_group() -> click.Group:
    """Flask-Migrate's `db` group, with a downgrade that keeps the access log unless told."""
    from flask_migrate.cli import db as migrate_db
    from flask_migrate.cli import downgrade as migrate_downgrade

    @click.command("downgrade", help=migrate_downgrade.help)
    @click.option(
        "--drop-access-log",
        is_flag=True,
        help="Ook onder de versie die het toegangslogboek maakt: alle logregels gaan verloren.",
    )
    @click.pass_context
    @with_appcontext
    def downgrade(ctx: click.Context, drop_access_log: bool, **kwargs: Any) -> None:
        drops = not kwargs["sql"] and downgrade_drops_access_log(
            kwargs["revision"], kwargs["directory"]
        )
        if drops and not drop_access_log:
            fail(
                "Deze downgrade verwijdert het toegangslogboek (NEN 7513) met alle regels. "
                "Maak eerst een back-up, en geef --drop-access-log als dat echt de bedoeling is.",
                2,
            )
            return
        ctx.invoke(migrate_downgrade, **kwargs)

    downgrade.params[:0] = migrate_downgrade.params
    return click.Group(
        "db",
        commands={**migrate_db.commands, "downgrade": downgrade},
        params=migrate_db.params,
        callback=migrate_db.callback,
        help=migrate_db.help,
    )
