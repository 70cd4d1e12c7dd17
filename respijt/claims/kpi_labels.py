"""The key figures in Dutch words, for the CSV files a coordinator opens in a spreadsheet.

A figure's path in the JSON (`lead_time_hours.median`) is a key for machines; in a CSV each
part becomes a word (`Doorlooptijd, de helft van de aanvragen geplaatst binnen (uren)`). A part
without a word (a CBS code, a number) stays as it is; a part whose word is the figure's own
word is not repeated (`occupancy.occupancy` is "Bezetting"). Shares are written as a fraction
(0,375) in both CSV files; the pages write them as a percentage (38%).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from respijt import formatting
from respijt.care_requests.workflow import REQUEST_LABELS
from respijt.claims import formats
from respijt.claims.kpis import SERIES_FIELDS, flatten
from respijt.claims.suppression import THRESHOLD
from respijt.codes import TARGET_GROUPS

# The headers of the CSV of all figures, one row per figure, and of the tables on the
# coordinator's key figures page: words a gemeente's coordinator reads at once.
KPI_HEADER = ("Cijfer", "Uitkomst")

# The median and the 90th percentile of the lead time, in words (page, CSV, monthly report):
# one wording everywhere, the unit after it.
MEDIAN_WORDS = "de helft van de aanvragen geplaatst binnen"
P90_WORDS = "9 van de 10 aanvragen geplaatst binnen"
MEDIAN_HOURS = f"{MEDIAN_WORDS} (uren)"
P90_HOURS = f"{P90_WORDS} (uren)"

# The Dutch names of the monthly series, on the dashboard and as the monthly CSV's headers.
SERIES_LABELS = {
    "requests": "Aanvragen",
    "placed": "Geplaatst",
    "placement_rate": "Plaatsingsgraad",
    "lead_time_median_hours": MEDIAN_HOURS[:1].upper() + MEDIAN_HOURS[1:],
    "unmet_demand": "Onvervulde vraag",
    "occupancy": "Bezetting",
}

# The heading of a monthly series' chart.
SERIES_HEADINGS = {
    **{name: f"{label} per maand" for name, label in SERIES_LABELS.items()},
    "lead_time_median_hours": f"Doorlooptijd per maand: {MEDIAN_HOURS}",
}

# The first part of a path: the figure.
FIGURES = {
    "period": "Periode",
    "filters": "Filter",
    "requests": "Aanvragen",
    "placement_rate": "Plaatsingsgraad",
    "lead_time_hours": "Doorlooptijd",
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
    "median": MEDIAN_HOURS,
    "p90": P90_HOURS,
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
    "median_age_hours": "de helft van de locaties bevestigd binnen (uren)",
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

# A part whose word depends on the figure: the lead time counts placements, not hours.
PATH_PARTS = {
    "lead_time_hours.count": "aantal plaatsingen",
}


def figure_label(path: str, provider_names: dict[str, str] | None = None) -> str:
    """`path` in words: the figure, then each part, separated by commas. A meldpunt provider
    in the neutrality figure is named by `provider_names` (its number as text to its name)."""
    first, *rest = path.split(".")
    words = [FIGURES.get(first, first)]
    if path in PATH_PARTS:
        return f"{words[0]}, {PATH_PARTS[path]}"
    for index, part in enumerate(rest):
        if first == "neutrality" and index == 0 and provider_names:
            words.append(provider_names.get(part, part))
        elif index > 0 and rest[index - 1] == "distribution":
            words.append(f"cijfer {part}")
        else:
            word = PARTS.get(part, part)
            if word.lower() != words[-1].lower():  # "Bezetting", not "Bezetting, bezetting"
                words.append(word)
    return ", ".join(words)


def shown_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures a page or CSV lists: a whole figure without a value (the meldpunt's calls
    before any were counted) is left out; a suppressed one stays (it reads '<5')."""
    hidden = set(figures.get("suppression", {}).get("cells", []))
    return {key: value for key, value in figures.items() if value is not None or key in hidden}


def figure_rows(figures: dict[str, Any], decimal_comma: bool = False) -> list[tuple[str, str]]:
    """(figure in words, value) rows for the CSV of all figures; a suppressed cell reads '<5'."""
    names = {
        str(item["provider"]["id"]): str(item["provider"]["name"])
        for item in figures.get("neutrality") or []
        if isinstance(item, dict) and "provider" in item
    }
    return [
        (figure_label(path, names), value)
        for path, value in flatten(shown_figures(figures), decimal_comma=decimal_comma)
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


def series_csv_cell(row: dict[str, Any], name: str, *, comma: bool = True) -> str:
    """A monthly figure for a CSV cell, written as in the CSV of all figures: a count as digits,
    a share as a fraction (0,375, not 38%), hours with a decimal; '<5' suppressed, '' unknown."""
    value = row[name]
    if value is None:
        return f"<{THRESHOLD}" if name in row["suppressed"] else ""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return formatting.csv_number(value, comma=comma)
    return str(value)
