"""The SMS texts: templates/sms/<template>.txt rendered to one line, with the filters they
use for dates, times and counted nouns (the formatting layer, short enough for one SMS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import jinja2

from respijt import formatting

TEMPLATE_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "templates",
    "sms",
)


def format_date_nl(value: str | date) -> str:
    """'2026-12-04' → '4 dec'. Short, so an SMS stays one segment (formatting.day_month)."""
    return formatting.day_month(value)


def format_datetime_nl(value: str | datetime) -> str:
    """A UTC instant as local wall-clock time: '4 dec 14:30' (formatting.sms_datetime)."""
    return formatting.sms_datetime(value)


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=False,  # plain-text SMS, never HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["datum"] = format_date_nl
_env.filters["tijdstip"] = format_datetime_nl
_env.filters["aantal"] = formatting.counted  # {{ n|aantal("notitie", "notities") }}


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render templates/sms/<template>.txt to one line of text."""
    text = _env.get_template(f"{template}.txt").render(**context)
    return " ".join(text.split())
