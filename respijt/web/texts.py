"""Texts a gemeente sets for its own residents: what logeren costs, how to complain.

A JSON file (RESPIJT_MUNICIPALITY_TEXTS) maps a CBS code to texts; a gemeente without an entry
gets the general wording below. Example: docs/municipality_texts.example.json.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

GENERAL: dict[str, str] = {
    "costs": (
        "Logeren via de Wmo regelt u met uw gemeente. Vaak betaalt u een eigen bijdrage "
        "van hooguit het wettelijke maximum per maand (het abonnementstarief), soms niets. "
        "Met een Wlz-indicatie of via de zorgverzekeraar (ELV) gelden andere regels. Het "
        "meldpunt of uw wijkteam vertelt u wat het voor u kost."
    ),
    "complaints": (
        "Bent u niet tevreden over hoe uw aanvraag is behandeld? Bel eerst het meldpunt van "
        "uw regio; vaak is het dan snel opgelost. Komt u er samen niet uit, dan kunt u een "
        "klacht indienen bij uw gemeente. Iedere gemeente heeft een klachtenregeling en een "
        "onafhankelijke klachtenfunctionaris; daarna kunt u naar de Nationale ombudsman."
    ),
}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        data: Any = json.load(fh)
    if not isinstance(data, dict):
        raise RuntimeError(f"{path}: expected an object keyed by CBS code")
    return {
        str(code).upper(): {str(k): str(v) for k, v in texts.items()}
        for code, texts in data.items()
        if isinstance(texts, dict)
    }


def texts_for(path: str, municipality_code: str | None) -> dict[str, str]:
    """The gemeente's texts over the general ones; the general ones without a code or file."""
    texts = dict(GENERAL)
    if municipality_code and path and os.path.exists(path):
        texts.update(_load(path, os.path.getmtime(path)).get(municipality_code.upper(), {}))
    return texts
