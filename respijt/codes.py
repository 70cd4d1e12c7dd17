"""Shared code lists with their Dutch labels, in one place (seed 001:421: one vocabulary)."""

from __future__ import annotations

from datetime import date

# Dates a client may send: far enough either way for history and planning, far enough from
# date.min/date.max that adding a stay, a month or a week can never overflow.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)

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

# --- care requests ---

REQUEST_CHANNELS: dict[str, str] = {"web": "Webformulier", "phone": "Telefoon", "api": "API"}

REQUESTER_TYPES: dict[str, str] = {
    "mantelzorger": "Mantelzorger",
    "verwijzer": "Verwijzer",
    "meldpunt": "Meldpunt",
}

URGENCIES: dict[str, str] = {"planned": "Gepland", "soon": "Binnenkort", "urgent": "Spoed"}

REQUEST_REASONS: dict[str, str] = {
    "vakantie": "Vakantie van de mantelzorger",
    "ziekenhuisopname_mantelzorger": "Ziekenhuisopname van de mantelzorger",
    "overbelasting": "Overbelasting van de mantelzorger",
    "werk": "Werk van de mantelzorger",
    "anders": "Anders",
}

REQUEST_FUNDING: dict[str, str] = {**FUNDING_ROUTES, "onbekend": "Nog onbekend"}

# A unit of a higher care level can take a client who needs less.
CARE_LEVEL_ORDER = ("basic", "extra_care", "supervision_24h")

LANGUAGES: dict[str, str] = {
    "nl": "Nederlands",
    "en": "Engels",
    "de": "Duits",
    "fr": "Frans",
    "tr": "Turks",
    "ar": "Arabisch",
    "pl": "Pools",
    "pap": "Papiaments",
    "fy": "Fries",
    "zgh": "Berbers",
    "es": "Spaans",
}
