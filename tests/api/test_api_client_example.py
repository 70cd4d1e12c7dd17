"""The Python client example of docs/api.md runs, as written, against a test server on
127.0.0.1: it publishes a provider's capacity with its token and reads its reservations, page
by page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from respijt.models import NightInventory
from tests.accounts_support import hold
from tests.browser.live_server import running_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _python_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/api.md has one Python example"
    return blocks[0]


def test_the_python_client_example_pushes_capacity_and_reads_reservations(
    client, database_url, db, make, today, tmp_path
):
    provider = make.provider()
    unit = make.unit(location=make.location(provider=provider), capacity=5)
    other = make.unit(capacity=5)
    verwijzer = make.token("verwijzer")
    mine = hold(client, verwijzer, unit, today + timedelta(days=3))
    theirs = hold(client, verwijzer, other, today + timedelta(days=3))
    token = make.token("provider", provider)["Authorization"].removeprefix("Bearer ")
    unit_id = unit.id
    # No transaction of the test may stay open: on SQLite a reader would hold up the server's
    # writes (touching an expired ORM object after the commit starts one).
    db.session.commit()
    db.session.close()

    with running_server(database_url, db, tmp_path) as base:
        env = {
            **os.environ,
            "RESPIJT_API": f"{base}/api/v1",
            "RESPIJT_TOKEN": token,
            "RESPIJT_UNIT_ID": str(unit_id),
        }
        result = subprocess.run(
            [sys.executable, "-c", _python_example()],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("capaciteit: ") and not lines[0].startswith("capaciteit: 0")
    assert any(line.startswith(mine["short_code"]) for line in lines[1:]), result.stdout
    assert not any(theirs["short_code"] in line for line in lines), result.stdout

    db.session.expire_all()
    nights = {
        row.night: row.capacity
        for row in db.session.scalars(
            select(NightInventory).where(NightInventory.unit_id == unit_id)
        )
    }
    tomorrow = today + timedelta(days=1)
    assert nights[tomorrow] == 3 and nights[tomorrow + timedelta(days=1)] == 3
    assert nights[tomorrow + timedelta(days=2)] == 2 and nights[tomorrow + timedelta(days=6)] == 2
