"""One key for every process: production starts refuse without RESPIJT_SECRET_KEY; the
embedded default and every command share the instance key file; gunicorn workers sharing a
key accept every login whichever worker answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from respijt import PROJECT_ROOT, clock, create_app
from respijt.care_requests.common import PUBLIC
from respijt.extensions import db as extension
from respijt.models import OutboxMessage
from respijt.reservations import steps
from tests.care_request_helpers import STAFF, body, create, occupy
from tests.conftest import config_for_tests

BIN = os.path.dirname(sys.executable)
KEY = "k" * 64


def _environment(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPIJT_")}
    env.pop("DATABASE_URL", None)
    env.update(
        RESPIJT_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'respijt.db'}",
        RESPIJT_QUIET_HOURS="",
        **extra,
    )
    return env


def _run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT, **kw
    )


@pytest.mark.parametrize(
    "command",
    [
        ["respijt", "scheduler"],
        ["respijt", "serve", "--host", "0.0.0.0", "--port", "0"],
        ["gunicorn", "-w", "2", "-b", "127.0.0.1:0", "respijt:create_app()"],
    ],
    ids=["scheduler", "serve-public", "gunicorn"],
)
def test_a_production_start_without_a_key_refuses(tmp_path, command):
    done = _run([os.path.join(BIN, command[0]), *command[1:]], _environment(tmp_path))
    assert done.returncode != 0
    assert "RESPIJT_SECRET_KEY is niet ingesteld" in done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr
    if command[0] == "gunicorn":  # refused before any app is made
        assert not (tmp_path / "secret_key").exists()


# The outbox dispatch job once, in its own process, printing through the console backend.
_DISPATCH_ONCE = """
from respijt import clock, create_app
from respijt.extensions import db
from respijt.scheduler import jobs

app = create_app()
with app.app_context():
    jobs.dispatch_outbox(db.session, clock.now(), app.config)
    db.session.commit()
"""


def test_the_embedded_default_and_commands_share_the_instance_key(tmp_path, monkeypatch):
    monkeypatch.delenv("RESPIJT_SECRET_KEY", raising=False)
    monkeypatch.setenv("RESPIJT_INSTANCE_PATH", str(tmp_path))
    config = config_for_tests(f"sqlite:///{tmp_path / 'a.db'}")
    del config["SECRET_KEY"], config["RESPIJT_SECRET_KEY_CONFIGURED"]
    first, second = create_app(config), create_app(config)
    assert first.secret_key == second.secret_key == (tmp_path / "secret_key").read_text()
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_an_offer_made_by_the_waitlist_command_and_sent_by_another_process_opens_in_the_web(
    tmp_path, monkeypatch, database_url, db, make
):
    """No RESPIJT_SECRET_KEY: `respijt waitlist offer` queues the offer, another process sends
    it (the signed link is made then, never stored), and the web opens that link: all three
    use instance/secret_key."""
    today = clock.today()
    municipality = make.municipality()
    unit = make.unit(location=make.location(municipality=municipality), capacity=1)
    arrival, departure = today + timedelta(days=20), today + timedelta(days=23)
    blocking = occupy(db.session, unit, arrival, departure)
    # Only a request made by the public itself gets the status link by SMS.
    waiting = create(db.session, body(municipality, arrival, departure), caller=PUBLIC)
    reference = waiting.reference
    steps.cancel(
        db.session, blocking, party="requester", caller=STAFF, now=clock.now(), reason="ziek"
    )
    db.session.commit()
    before = set(db.session.scalars(select(OutboxMessage.id)))
    db.session.commit()

    done = _run(
        [os.path.join(BIN, "respijt"), "waitlist", "offer"], _environment(tmp_path, database_url)
    )
    assert done.returncode == 0, done.stderr
    assert f"Aanbod voor {reference}" in done.stdout
    offers = [m for m in db.session.scalars(select(OutboxMessage)) if m.id not in before]
    assert offers and all("/a/" not in m.body for m in offers)
    db.session.commit()
    sent = _run([sys.executable, "-c", _DISPATCH_ONCE], _environment(tmp_path, database_url))
    assert sent.returncode == 0, sent.stderr
    [offer_sms] = [line for line in sent.stdout.splitlines() if "logeerbed voor aanvraag" in line]
    [link] = re.findall(r"/a/([A-Za-z0-9_.-]+)", offer_sms)
    db.session.commit()

    monkeypatch.delenv("RESPIJT_SECRET_KEY", raising=False)
    monkeypatch.setenv("RESPIJT_INSTANCE_PATH", str(tmp_path))
    config = config_for_tests(database_url)
    del config["SECRET_KEY"], config["RESPIJT_SECRET_KEY_CONFIGURED"]
    web = create_app(config)
    try:
        client = web.test_client()
        opened = client.get(f"/a/{link}")
        assert opened.status_code == 303
        page = client.get(opened.headers["Location"])
        assert page.status_code == 200 and reference in page.get_data(as_text=True)
    finally:
        with web.app_context():
            extension.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_gunicorn_workers_with_one_key_accept_every_login(tmp_path):
    env = _environment(
        tmp_path, RESPIJT_SECRET_KEY=KEY, RESPIJT_COOKIE_SECURE="off", RESPIJT_RATELIMIT="off"
    )
    respijt = os.path.join(BIN, "respijt")
    assert _run([respijt, "db", "upgrade"], env).returncode == 0
    email, password = "verwijzer@example.nl", "een lange zin als wachtwoord"
    made = _run(
        [
            respijt,
            "user",
            "create",
            "--email",
            email,
            "--role",
            "verwijzer",
            "--organisation",
            "Wijkteam",
            "--password-stdin",
        ],
        env,
        input=password + "\n",
    )
    assert made.returncode == 0, made.stderr
    port = _free_port()
    error_log = open(tmp_path / "gunicorn.err", "w")  # a file: a pipe nobody reads fills up
    server = subprocess.Popen(
        [
            os.path.join(BIN, "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "respijt:create_app()",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=error_log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/login", timeout=30)
                break
            except requests.RequestException:  # not listening yet, or a worker still booting
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        statuses, pids = [], set()
        for _ in range(20):
            browser = requests.Session()  # a fresh session each time
            form = browser.get(base + "/login", timeout=60).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
            assert token
            answer = browser.post(
                base + "/login",
                data={"email": email, "password": password, "csrf_token": token.group(1)},
                headers={"Origin": base, "Referer": base + "/login"},
                allow_redirects=False,
                timeout=60,
            )
            statuses.append(answer.status_code)
        assert statuses == [302] * 20
    finally:
        server.terminate()
        server.wait(timeout=30)
        error_log.close()
    errors = (tmp_path / "gunicorn.err").read_text()
    pids = set(re.findall(r"Booting worker with pid: (\d+)", errors))
    assert len(pids) == 2, errors[-2000:]
