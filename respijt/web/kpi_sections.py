"""The coordinator's key figures as sections of a page: per figure a Dutch heading, a chart
(`web.charts`) and the same numbers as a table. No Flask; the words come from
`claims.kpi_labels`, the numbers from `claims.kpis`.

A suppressed cell (fewer than 5 people) reads "<5" and draws no bar; an unknown one "–".
Numbers are written for people ("22.382", `formatting.number`); the CSV files write them for
machines (`claims.kpi_labels`). A chart holds one unit only: counts, hours or shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from respijt import formatting
from respijt.claims import kpi_labels
from respijt.claims.kpis import SERIES_FIELDS
from respijt.web import charts
from respijt.web.charts import Bar

SHARE_FIELDS = ("placement_rate", "occupancy")
# Parts of a figure's path that are a share (0–1), shown as a percentage.
SHARE_PARTS = (
    "share",
    "rate",
    "occupancy",
    "share_fresh",
    "own_option_share",
    "own_placement_share",
    "answered_within_30s_share",
)


@dataclass
class Section:
    key: str  # the anchor on the page
    title: str
    intro: str
    chart: Markup
    rows: list[tuple[str, str]] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (endpoint, words) of a page with more


def month_label(month: str) -> str:
    """'2026-12' → 'dec 2026'."""
    year, number = month.split("-")
    return formatting.month_short(date(int(year), int(number), 1))


def _is_share(path: str) -> bool:
    last = path.rsplit(".", 1)[-1]
    return last in SHARE_PARTS or last.endswith("_share") or last == "placement_rate"


def value_text(path: str, value: Any, hidden: set[str]) -> str:
    """A figure's value as the page writes it."""
    if value is None:
        return "<5" if path in hidden else "–"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        if _is_share(path):
            return charts.percent(value)
        # 8.0 → "8,0", 4.25 → "4,25": one decimal at least, two where the figure has them.
        return formatting.number(value, 2 if round(value, 2) != round(value, 1) else 1)
    if isinstance(value, int):
        return formatting.number(value)
    return str(value)


def _value(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bars(
    items: Iterable[tuple[str, str, Any]], hidden: set[str], patterns: bool = False
) -> list[Bar]:
    """(label, path, value) → bars; with `patterns` each bar has its own pattern too."""
    out = []
    for index, (label, path, value) in enumerate(items):
        pattern = charts.PATTERNS[index % len(charts.PATTERNS)] if patterns else "solid"
        out.append(Bar(label, _value(value), value_text(path, value, hidden), pattern))
    return out


def _rows(bars: list[Bar]) -> list[tuple[str, str]]:
    return [(b.label, b.text) for b in bars]


def series_sections(series: list[dict[str, Any]]) -> list[Section]:
    """One chart per headline figure over the months of the period."""
    sections = []
    for name in SERIES_FIELDS:
        label, heading = kpi_labels.SERIES_LABELS[name], kpi_labels.SERIES_HEADINGS[name]
        bars = []
        for row in series:
            value = row[name]
            suppressed = name in row["suppressed"]
            if name in SHARE_FIELDS:
                text = charts.percent(value, suppressed)
            elif isinstance(value, float):
                text = charts.number(value, suppressed, decimals=1)
            else:
                text = charts.number(value, suppressed)
            bars.append(Bar(month_label(row["month"]), _value(value), text))
        chart = charts.bar_chart(
            heading,
            f"{label} per maand van de gekozen periode; '<5' is niet getoond (minder dan 5).",
            bars,
            maximum=1.0 if name in SHARE_FIELDS else None,
        )
        sections.append(Section(f"maand-{name}", heading, "", chart, _rows(bars)))
    return sections


def _section(
    key: str,
    title: str,
    intro: str,
    items: list[tuple[str, str, Any]],
    hidden: set[str],
    *,
    shares: bool = False,
    patterns: bool = False,
) -> Section:
    bars = _bars(items, hidden, patterns)
    chart = charts.bar_chart(title, intro, bars, maximum=1.0 if shares else None)
    return Section(key, title, intro, chart, _rows(bars))


def _first_up(label: str) -> str:
    """A capital at the start only: 'ELV' stays 'ELV' ('elv'.capitalize() would not)."""
    return label[:1].upper() + label[1:]


def _breakdown(
    key: str, title: str, intro: str, path: str, counts: Mapping[str, Any], hidden: set[str]
) -> Section:
    items = [
        (_first_up(kpi_labels.PARTS.get(part, part)), f"{path}.{part}", n)
        for part, n in counts.items()
    ]
    return _section(key, title, intro, items, hidden)


def figure_sections(
    figures: dict[str, Any], municipality_names: Mapping[str, str] | None = None
) -> list[Section]:
    """Every figure of the period as a section with its chart."""
    hidden = set(figures["suppression"]["cells"])
    names = dict(municipality_names or {})
    requests, lead = figures["requests"], figures["lead_time_hours"]
    unmet, before = figures["unmet_demand"], figures["placed_before_desired_arrival"]
    sections = [
        _section(
            "aanvragen",
            "Aanvragen en plaatsingen",
            "Aanvragen die in de periode binnenkwamen, hoeveel daarvan een plek kregen en "
            "hoeveel niet.",
            [
                ("Aanvragen", "requests.total", requests["total"]),
                ("Geplaatst", "requests.placed", requests["placed"]),
                (
                    "Geplaatst vóór de gewenste aankomst",
                    "placed_before_desired_arrival.count",
                    before["count"],
                ),
                ("Onvervulde vraag", "unmet_demand.total", unmet["total"]),
            ],
            hidden,
            patterns=True,
        ),
        _section(
            "aandelen",
            "Plaatsingsgraad en aandelen",
            "Aandelen in procenten: een volle balk is 100%.",
            [
                ("Plaatsingsgraad", "placement_rate", figures["placement_rate"]),
                (
                    "Geplaatst vóór de gewenste aankomst",
                    "placed_before_desired_arrival.share",
                    before["share"],
                ),
                ("Bezetting", "occupancy.occupancy", figures["occupancy"]["occupancy"]),
                ("Aanbod actueel", "freshness.share_fresh", figures["freshness"]["share_fresh"]),
            ],
            hidden,
            shares=True,
            patterns=True,
        ),
        _lead_time(lead, hidden),
        _breakdown(
            "onvervuld-status",
            "Onvervulde vraag per status",
            "Aanvragen zonder plek, naar hoe ze nu staan.",
            "unmet_demand.by_status",
            unmet["by_status"],
            hidden,
        ),
        _breakdown(
            "onvervuld-doelgroep",
            "Onvervulde vraag per doelgroep",
            "Aanvragen zonder plek, naar doelgroep.",
            "unmet_demand.by_target_group",
            unmet["by_target_group"],
            hidden,
        ),
        _section(
            "onvervuld-gemeente",
            "Onvervulde vraag per gemeente",
            "Aanvragen zonder plek, naar de gemeente van de cliënt.",
            [
                (names.get(code, code), f"unmet_demand.by_municipality.{code}", n)
                for code, n in unmet["by_municipality"].items()
            ],
            hidden,
        ),
        _breakdown(
            "financiering",
            "Gekozen financiering",
            "Hoe de geplaatste verblijven betaald worden.",
            "funding_chosen",
            figures["funding_chosen"],
            hidden,
        ),
        _occupancy(figures["occupancy"], hidden),
        _freshness(figures["freshness"], hidden),
        _neutrality(figures["neutrality"], hidden),
    ]
    calls = figures.get("meldpunt_calls")
    if calls:
        section = _section(
            "telefoon",
            "Telefoon meldpunt",
            "Gesprekken met het meldpuntnummer in de periode.",
            [
                (_first_up(kpi_labels.PARTS[part]), f"meldpunt_calls.{part}", calls[part])
                for part in ("calls", "answered_within_30s", "missed", "voicemails", "callbacks")
            ],
            hidden,
        )
        share_path = "meldpunt_calls.answered_within_30s_share"
        section.rows.append(
            (
                "Aandeel binnen 30 seconden opgenomen",
                value_text(share_path, calls["answered_within_30s_share"], hidden),
            )
        )
        sections.append(section)
    return sections


def _placements(count: Any, hidden: set[str]) -> str:
    """The number of placements the lead time is counted over, in words."""
    if count is None:
        return "minder dan 5 plaatsingen" if "lead_time_hours.count" in hidden else "–"
    return formatting.counted(count, "plaatsing", "plaatsingen")


def _lead_time(lead: dict[str, Any], hidden: set[str]) -> Section:
    """Hours as bars; the number of placements as text (another unit, another scale)."""
    intro = (
        "Uren van het binnenkomen van de aanvraag tot de plaatsing, geteld over "
        f"{_placements(lead['count'], hidden)}."
    )
    section = _section(
        "doorlooptijd",
        "Doorlooptijd van aanvraag tot plaatsing",
        intro,
        [
            (_first_up(kpi_labels.MEDIAN_HOURS), "lead_time_hours.median", lead["median"]),
            (_first_up(kpi_labels.P90_HOURS), "lead_time_hours.p90", lead["p90"]),
        ],
        hidden,
        patterns=True,
    )
    count = value_text("lead_time_hours.count", lead["count"], hidden)
    section.rows.insert(0, ("Aantal plaatsingen", count))
    return section


def _occupancy(occupancy: dict[str, Any], hidden: set[str]) -> Section:
    return _section(
        "bezetting",
        "Bezetting van de beschikbaar gestelde bedden",
        "Bednachten die aanbieders beschikbaar stelden, hoeveel ervan gebruikt werden en "
        "hoeveel vrij bleven.",
        [
            (
                "Beschikbaar gesteld",
                "occupancy.published_bed_nights",
                occupancy["published_bed_nights"],
            ),
            ("Gebruikt", "occupancy.used_bed_nights", occupancy["used_bed_nights"]),
            (
                "Vrijgehouden, niet gebruikt",
                "occupancy.kept_free_bed_nights",
                occupancy["kept_free_bed_nights"],
            ),
        ],
        hidden,
        patterns=True,
    )


def _freshness(freshness: dict[str, Any], hidden: set[str]) -> Section:
    return _section(
        "actualiteit",
        "Actualiteit van het aanbod",
        f"Locaties die hun vrije bedden in de laatste {freshness['stale_after_hours']} uur "
        "bevestigden (actueel) of niet (verouderd).",
        [
            ("Locaties", "freshness.locations", freshness["locations"]),
            ("Actueel", "freshness.fresh", freshness["fresh"]),
            ("Verouderd", "freshness.stale", freshness["stale"]),
        ],
        hidden,
        patterns=True,
    )


def _neutrality(rows: list[dict[str, Any]], hidden: set[str]) -> Section:
    items: list[tuple[str, str, Any]] = []
    for row in rows:
        path = f"neutrality.{row['provider']['id']}"
        name = row["provider"]["name"]
        items.append(
            (
                f"{name}: eigen bedden bij de getoonde opties",
                f"{path}.own_option_share",
                row["own_option_share"],
            )
        )
        items.append(
            (
                f"{name}: plaatsingen in eigen bedden",
                f"{path}.own_placement_share",
                row["own_placement_share"],
            )
        )
    section = _section(
        "neutraliteit",
        "Plaatsingen in eigen bedden",
        "Geteld over de aanvragen van deze periode: per aanbieder die als meldpunt een logé "
        "plaatste, welk deel van die plaatsingen in eigen bedden was, en welk deel van de "
        "opties bij dezelfde aanvragen eigen bedden waren.",
        items,
        hidden,
        shares=True,
        patterns=True,
    )
    section.link = (
        "web.coordinator_neutrality",
        "Eigen bedden aangeboden per dienst (een andere telling: per dienst en maand)",
    )
    return section


def satisfaction_section(satisfaction: dict[str, Any] | None, hidden: set[str]) -> Section:
    satisfaction = satisfaction or {"answers": 0, "mean": None, "distribution": {}}
    items = [
        (f"Cijfer {score}", f"satisfaction.distribution.{score}", n)
        for score, n in satisfaction["distribution"].items()
    ]
    section = _section(
        "tevredenheid",
        "Tevredenheid na vertrek",
        "Antwoorden op de sms na vertrek (cijfer 1 = slecht tot 5 = heel goed), voor verblijven "
        "die in de periode eindigden.",
        items,
        hidden,
    )
    section.rows = [
        ("Antwoorden", value_text("satisfaction.answers", satisfaction["answers"], hidden)),
        ("Gemiddeld cijfer", value_text("satisfaction.mean", satisfaction["mean"], hidden)),
        *section.rows,
    ]
    return section


def all_rows(
    figures: dict[str, Any], municipality_names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Every figure of the period in words, for the closing table (as in the CSV)."""
    hidden = set(figures["suppression"]["cells"])
    providers = {
        str(item["provider"]["id"]): str(item["provider"]["name"])
        for item in figures.get("neutrality") or []
    }
    rows: list[tuple[str, str]] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list):
            for item in value:
                walk(f"{path}.{item['provider']['id']}", item)
        else:
            rows.append(
                (_label(path, providers, municipality_names), value_text(path, value, hidden))
            )

    skip = ("suppression", "period", "filters")
    shown = kpi_labels.shown_figures(figures)
    walk("", {k: v for k, v in shown.items() if k not in skip})
    return [(label, text) for label, text in rows if not label.endswith(", nummer")]


def _label(path: str, providers: Mapping[str, str], municipalities: Mapping[str, str]) -> str:
    label = kpi_labels.figure_label(path, dict(providers))
    code = path.rsplit(".", 1)[-1]
    if path.startswith("unmet_demand.by_municipality.") and code in municipalities:
        label = label.removesuffix(code) + municipalities[code]
    return label
