"""Strict settings: every RESPIJT_* variable typed and ranged, unknown names refused, and
docs/configuration.md listing exactly the settings the code reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from respijt import PROJECT_ROOT
from respijt.config import (
    BY_NAME,
    FALSE_WORDS,
    TRUE_WORDS,
    ConfigError,
    account_settings_from_env,
    settings_from_env,
)

RESPIJT = os.path.join(os.path.dirname(sys.executable), "respijt")

INVALID = [
    ("RESPIJT_COOKIE_SECURE", "misschien"),
    ("RESPIJT_RATELIMIT", "aan"),
    ("RESPIJT_SMTP_STARTTLS", "2"),
    ("RESPIJT_HOLD_MINUTES", "-5"),
    ("RESPIJT_HOLD_MINUTES", "15.5"),
    ("RESPIJT_HOLD_MINUTES", "kwartier"),
    ("RESPIJT_HORIZON_DAYS", "0"),
    ("RESPIJT_SMTP_PORT", "70000"),
    ("RESPIJT_TRUSTED_PROXIES", "-1"),
    ("RESPIJT_SESSION_IDLE_MINUTES", "0"),
    ("RESPIJT_SCHEDULER_LEASE_SECONDS", "0"),
    ("RESPIJT_SCHEDULER_LEASE_SECONDS", "nan"),
    ("RESPIJT_TWILIO_TIMEOUT_SECONDS", "10s"),
    ("RESPIJT_SMS_BACKEND", "pigeon"),
    ("RESPIJT_MAIL_BACKEND", "sendmail"),
    ("RESPIJT_PUBLIC_URL", "respijt.example.nl"),
    ("RESPIJT_TWILIO_BASE_URL", "ftp://api.twilio.com"),
    ("RESPIJT_QUIET_HOURS", "9-17"),
    ("RESPIJT_MELDPUNT_HOURS", "altijd"),
    ("RESPIJT_ROTA_PATTERN", "monthly"),
    ("RESPIJT_ROTA_HOLIDAYS", "Sinterklaas"),
    ("RESPIJT_RATELIMIT_STORAGE_URI", "redis"),
    # Unknown names: typing errors must not silently mean the default.
    ("RESPIJT_HOLD_MINUTS", "5"),
    ("RESPIJT_COOKIES_SECURE", "off"),
    ("RESPIJT_TESTS_BACKENDS", "sqlite"),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_an_invalid_or_unknown_setting_stops_the_start_naming_it(tmp_path, name, value):
    with pytest.raises(ConfigError) as caught:
        settings_from_env({name: value}, str(tmp_path))
    message = str(caught.value)
    assert name in message and "docs/configuration.md" in message
    if name in BY_NAME:
        assert repr(value) in message
        assert "toegestaan is " + BY_NAME[name].allowed in message
    else:  # an unknown name's value is never repeated: it may be anything
        assert repr(value) not in message and "(niet getoond)" in message


def test_every_problem_is_named_at_once_and_a_near_name_is_suggested(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"RESPIJT_HOLD_MINUTES": "-5", "RESPIJT_HOLD_MINUTS": "5"}, str(tmp_path))
    assert len(caught.value.problems) == 2
    assert "Bedoelt u RESPIJT_HOLD_MINUTES?" in str(caught.value)


def test_the_value_of_a_misspelt_name_is_never_repeated(tmp_path):
    url = "postgresql://respijt_app:Geheim-Wachtwoord-42@db.example.nl/respijt"
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"RESPIJT_DATABASE_URL": url}, str(tmp_path))
    message = str(caught.value)
    assert "RESPIJT_DATABASE_URL" in message
    assert "Geheim-Wachtwoord" not in message and "db.example.nl" not in message
    proxy = "https://user:Geheim-Wachtwoord-42@proxy.example.nl"
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"RESPIJT_TWILIO_BASE_UR": proxy}, str(tmp_path))
    message = str(caught.value)
    assert "Bedoelt u RESPIJT_TWILIO_BASE_URL?" in message
    assert "Geheim-Wachtwoord" not in message and "proxy.example.nl" not in message


def test_secret_values_are_never_repeated(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"RESPIJT_SECRET_KY": "s3cr3t-value"}, str(tmp_path))
    assert "RESPIJT_SECRET_KY" in str(caught.value) and "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("word", [*TRUE_WORDS, "JA", "On", "TRUE"])
def test_documented_words_switch_on(word):
    assert account_settings_from_env({"RESPIJT_COOKIE_SECURE": word})["RESPIJT_COOKIE_SECURE"]


@pytest.mark.parametrize("word", [*FALSE_WORDS, "NEE", "Off"])
def test_documented_words_switch_off(word):
    settings = account_settings_from_env({"RESPIJT_COOKIE_SECURE": word})
    assert settings["RESPIJT_COOKIE_SECURE"] is False


def test_defaults_and_values(tmp_path):
    settings = settings_from_env({}, str(tmp_path))
    assert settings["RESPIJT_HOLD_MINUTES"] == 15
    assert settings["RESPIJT_COOKIE_SECURE"] is True
    assert settings["RESPIJT_TRUSTED_PROXIES"] == 0
    assert settings["RESPIJT_QUIET_HOURS"] == "21:00-08:00"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["RESPIJT_MUNICIPALITY_TEXTS"] == str(tmp_path / "municipality_texts.json")
    assert settings["SECRET_KEY"] is None and not settings["RESPIJT_SECRET_KEY_CONFIGURED"]
    given = settings_from_env(
        {
            "RESPIJT_HOLD_MINUTES": " 20 ",
            "RESPIJT_QUIET_HOURS": "",  # empty: no quiet hours
            "RESPIJT_PUBLIC_URL": "https://logeren.example.nl/",
            "RESPIJT_SCHEDULER_LEASE_SECONDS": "0.5",
            "RESPIJT_SECRET_KEY": "k" * 40,
            "RESPIJT_TEST_ANYTHING": "reserved for the test suite",
            "RESPIJT_BENCH_LOG": "reserved for bench/",
        },
        str(tmp_path),
    )
    assert given["RESPIJT_HOLD_MINUTES"] == 20 and given["RESPIJT_QUIET_HOURS"] == ""
    assert given["RESPIJT_PUBLIC_URL"] == "https://logeren.example.nl"
    assert given["RESPIJT_SCHEDULER_LEASE_SECONDS"] == 0.5
    assert given["SECRET_KEY"] == "k" * 40 and given["RESPIJT_SECRET_KEY_CONFIGURED"]


def _documented() -> set[str]:
    names: set[str] = set()
    text = Path(PROJECT_ROOT, "docs", "configuration.md").read_text()
    for line in text.splitlines():
        if line.startswith("| `RESPIJT_"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"RESPIJT_[A-Z0-9_]+", first_cell))
    return names


def test_docs_list_exactly_the_settings():
    assert _documented() == set(BY_NAME)


def test_every_setting_the_code_reads_is_declared():
    """Config keys named in respijt/, and RESPIJT_* environment reads anywhere in the repo."""
    declared = set(BY_NAME) | {"RESPIJT_SECRET_KEY_CONFIGURED"}
    read_by_app: set[str] = set()
    for path in Path(PROJECT_ROOT, "respijt").rglob("*.py"):
        read_by_app.update(
            re.findall(r"""config(?:\.get\(|\[)["'](RESPIJT_[A-Z0-9_]+)""", path.read_text())
        )
    assert read_by_app and read_by_app <= declared, read_by_app - declared
    environment_reads: set[str] = set()
    for folder in ("respijt", "tests", "bench", "scripts"):
        for path in Path(PROJECT_ROOT, folder).rglob("*.py"):
            environment_reads.update(
                re.findall(
                    r"""(?:environ\.get\(|getenv\(|environ\[)\s*["'](RESPIJT_[A-Z0-9_]+)""",
                    path.read_text(),
                )
            )
    stray = {
        name
        for name in environment_reads
        if name not in declared and not name.startswith(("RESPIJT_TEST_", "RESPIJT_BENCH_"))
    }
    assert environment_reads and not stray


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPIJT_")}
    env.update(
        RESPIJT_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'respijt.db'}",
        RESPIJT_SECRET_KEY="k" * 40,
        **extra,
    )
    return env


@pytest.mark.parametrize(
    ("name", "value"), [("RESPIJT_HOLD_MINUTES", "-5"), ("RESPIJT_COOKIE_SECUR", "off")]
)
def test_a_respijt_command_refuses_in_one_paragraph(tmp_path, name, value):
    done = subprocess.run(
        [RESPIJT, "check"],
        env=_environment(tmp_path, **{name: value}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert name in done.stderr
    # A known name's invalid value is shown; an unknown name's value never is.
    assert (repr(value) in done.stderr) == (name in BY_NAME)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_gunicorn_refuses_an_invalid_setting_before_any_worker(tmp_path):
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    done = subprocess.run(
        [gunicorn, "-w", "2", "-b", "127.0.0.1:0", "respijt:create_app()"],
        cwd=PROJECT_ROOT,
        env=_environment(tmp_path, RESPIJT_RATELIMIT="ja bitte"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "RESPIJT_RATELIMIT='ja bitte' is ongeldig" in done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr
