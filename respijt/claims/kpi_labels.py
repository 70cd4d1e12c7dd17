"""The key figures in Dutch words, for the CSV files a coordinator opens in a spreadsheet.

A figure's path in the JSON (`lead_time_hours.median`) is a key for machines; in a CSV each
part becomes a word (`Doorlooptijd (uren), de helft van de aanvragen geplaatst binnen`). A part
without a word (a CBS code, a number) stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from respijt.care_requests.workflow import REQUEST_LABELS
from respijt.claims import formats
from respijt.claims.kpis import SERIES_FIELDS, flatten
from respijt.codes import TARGET_GROUPS

# The headers of the CSV of all figures, one row per figure, and of the tables on the
# coordinator's key figures page: words a gemeente's coordinator reads at once.
KPI_HEADER = ("Cijfer", "Uitkomst")

# The median and the 90th percentile of the lead time, in words (page, CSV, monthly report).
MEDIAN_WORDS = "de helft van de aanvragen geplaatst binnen"
P90_WORDS = "9 van de 10 aanvragen geplaatst binnen"

# The Dutch names of the monthly series, on the dashboard and as the monthly CSV's headers.
SERIES_LABELS = {
    "requests": "Aanvragen",
    "placed": "Geplaatst",
    "placement_rate": "Plaatsingsgraad",
    "lead_time_median_hours": "Doorlooptijd, de helft geplaatst binnen (uren)",
    "unmet_demand": "Onvervulde vraag",
    "occupancy": "Bezetting",
}

# The first part of a path: the figure.
FIGURES = {
    "period": "Periode",
    "filters": "Filter",
    "requests": "Aanvragen",
    "placement_rate": "Plaatsingsgraad",
    "lead_time_hours": "Doorlooptijd (uren)",
    "placed_before_desired_arrival": "Geplaatst vóór de gewenste aankomst",
    "unmet_demand": "Onvervulde vraag",
    "funding_chosen": "Gekozen financiering",
    "occupancy": "Bezetting",
    "freshness": "Actualiteit van het aanbod",
    "neutrality": "Plaatsingen in eigen bedden",
    "meldpunt_calls": "Telefoon meldpunt",
    "satisfaction": "Tevredenheid",
}

# Every later part: what of the figure.
PARTS = {
    "from": "van",
    "to": "tot",
    "municipality": "gemeente",
    "provider": "aanbieder",
    "id": "nummer",
    "name": "naam",
    "total": "totaal",
    "placed": "geplaatst",
    "count": "aantal",
    "median": MEDIAN_WORDS,
    "p90": P90_WORDS,
    "share": "aandeel",
    "by_status": "per status",
    "by_target_group": "per doelgroep",
    "by_municipality": "per gemeente",
    "published_bed_nights": "bednachten beschikbaar gesteld",
    "used_bed_nights": "bednachten gebruikt",
    "kept_free_bed_nights": "bednachten vrijgehouden, niet gebruikt",
    "occupancy": "bezetting",
    "locations": "locaties",
    "fresh": "actueel",
    "stale": "verouderd",
    "share_fresh": "aandeel actueel",
    "median_age_hours": "mediane leeftijd (uren)",
    "stale_after_hours": "verouderd na (uren)",
    "placements": "plaatsingen",
    "own_placements": "plaatsingen in eigen bedden",
    "own_placement_share": "aandeel plaatsingen in eigen bedden",
    "options_shown": "getoonde opties",
    "own_options": "eigen opties",
    "own_option_share": "aandeel eigen opties",
    "calls": "gesprekken",
    "answered_within_30s": "binnen 30 seconden opgenomen",
    "answered_within_30s_share": "aandeel binnen 30 seconden opgenomen",
    "missed": "gemist",
    "voicemails": "voicemails",
    "callbacks": "teruggebeld",
    "answers": "antwoorden",
    "mean": "gemiddelde",
    "distribution": "verdeling",
    "wmo": "Wmo",
    "elv": "ELV",
    "wlz": "Wlz",
    "onbekend": "onbekend",
    **{code: label.lower() for code, label in REQUEST_LABELS.items()},
    **{code: label.lower() for code, label in TARGET_GROUPS.items()},
}


def figure_label(path: str, provider_names: dict[str, str] | None = None) -> str:
    """`path` in words: the figure, then each part, separated by commas. A meldpunt provider
    in the neutrality figure is named by `provider_names` (its number as text to its name)."""
    first, *rest = path.split(".")
    words = [FIGURES.get(first, first)]
    for index, part in enumerate(rest):
        if first == "neutrality" and index == 0 and provider_names:
            words.append(provider_names.get(part, part))
        elif index > 0 and rest[index - 1] == "distribution":
            words.append(f"cijfer {part}")
        else:
            words.append(PARTS.get(part, part))
    return ", ".join(words)


def figure_rows(figures: dict[str, Any], decimal_comma: bool = False) -> list[tuple[str, str]]:
    """(figure in words, value) rows for the CSV of all figures; a suppressed cell reads '<5'."""
    names = {
        str(item["provider"]["id"]): str(item["provider"]["name"])
        for item in figures.get("neutrality") or []
        if isinstance(item, dict) and "provider" in item
    }
    return [
        (figure_label(path, names), value)
        for path, value in flatten(figures, decimal_comma=decimal_comma)
    ]


def figures_csv(figures: dict[str, Any], period: str, *, decimal_comma: bool) -> tuple[str, str]:
    """The key figures of `period` as CSV text, and the file's name."""
    text = formats.table_csv(KPI_HEADER, figure_rows(figures, decimal_comma=decimal_comma))
    return text, f"kerncijfers-{period}.csv"


def series_csv(
    series: list[dict[str, Any]], period: str, cell: Callable[[dict[str, Any], str], str]
) -> tuple[str, str]:
    """The monthly series of `period` as CSV text, and the file's name; `cell` writes a value
    (each face has its own number format)."""
    text = formats.table_csv(
        ("Maand", *(SERIES_LABELS[name] for name in SERIES_FIELDS)),
        ((row["month"], *(cell(row, name) for name in SERIES_FIELDS)) for row in series),
    )
    return text, f"kerncijfers-per-maand-{period}.csv"
