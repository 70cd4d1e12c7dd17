"""Shared code lists with their Dutch labels, in one place (seed 001:421: one vocabulary)."""

from __future__ import annotations

TARGET_GROUPS: dict[str, str] = {
    "ouderen": "Ouderen",
    "dementie": "Mensen met dementie",
    "lichamelijk": "Lichamelijke beperking",
    "verstandelijk": "Verstandelijke beperking",
    "nah": "Niet-aangeboren hersenletsel",
    "ggz": "Psychische kwetsbaarheid (ggz)",
    "jongvolwassenen": "Jongvolwassenen",
}

CARE_LEVELS: dict[str, str] = {
    "basic": "Zonder extra zorg",
    "extra_care": "Met extra zorg",
    "supervision_24h": "24 uur toezicht",
}

FUNDING_ROUTES: dict[str, str] = {
    "wmo": "Wmo (gemeente)",
    "elv": "ELV (zorgverzekeraar)",
    "wlz": "Wlz (zorgkantoor)",
}

WEEKDAYS_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]

ALL_WEEKDAYS = "1234567"  # ISO weekday numbers on which arrivals are possible

CHANNELS = ("api", "web", "import", "sms", "system")
