"""The `respijt` command: operations, demo data and the stand-in Twilio.

`commands.py` holds the entry point (`main`) and the operations; `accounts.py` the token and
user commands, `migrations.py` the guarded `db` group. `register_cli` puts them on the app.
"""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from respijt.cli import accounts, commands, migrations
    from respijt.cli.voice_fallback import voice_group
    from respijt.scheduler.commands import COMMANDS as SCHEDULER_COMMANDS

    for command in (
        *SCHEDULER_COMMANDS,
        commands.fake_twilio_command,
        commands.demo_command,
        commands.serve_command,
        accounts.token_group,
        accounts.user_group,
        commands.privacy_group,
        commands.check_command,
        commands.expire_holds_command,
        commands.extend_horizon_command,
        commands.import_command,
        commands.waitlist_group,
        voice_group,
    ):
        app.cli.add_command(command)
    app.cli.add_command(migrations.guarded_db_group(), "db")  # replaces Flask-Migrate's own
