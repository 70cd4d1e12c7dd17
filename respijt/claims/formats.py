"""Claim lines as JSON-ready dicts and as semicolon-separated CSV with Dutch headers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt import formatting
from respijt.claims.ledger import LineView
from respijt.database import DbSession
from respijt.models import Location, Municipality, Provider


def money(cents: int | None) -> str | None:
    """An amount for the API's JSON: '145.00', '-12.50' (a decimal point, as JSON has it)."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Names:
    providers: dict[int, Provider]
    municipalities: dict[int, Municipality]
    locations: dict[int, Location]


def names_for(session: DbSession, lines: Sequence[LineView]) -> Names:
    def load(model: Any, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}

    return Names(
        providers=load(Provider, {line.provider_id for line in lines}),
        municipalities=load(Municipality, {line.municipality_id for line in lines}),
        locations=load(Location, {line.location_id for line in lines}),
    )


def line_dict(line: LineView, names: Names) -> dict[str, Any]:
    provider = names.providers[line.provider_id]
    municipality = names.municipalities[line.municipality_id]
    location = names.locations[line.location_id]
    return {
        "id": line.line_id,
        "kind": line.kind,
        "credits": line.credits,
        "version": line.version,
        "reservation_id": line.reservation_id,
        "client_reference": line.client_reference,
        "provider": {"id": provider.id, "name": provider.name, "agb_code": provider.agb_code},
        "location": {"id": location.id, "name": location.name},
        "municipality": {"code": municipality.code, "name": municipality.name},
        "funding": line.funding,
        "payer": line.payer,
        "product_code": line.product_code,
        "tariff": money(line.price_cents),
        "from": line.period_from.isoformat(),
        "to": line.period_to.isoformat(),
        "nights": line.nights,
        "amount": money(line.amount_cents),
        "provisional": line.provisional,
        "export": None
        if line.export_id is None
        else {
            "id": line.export_id,
            "seq": line.export_seq,
            "exported_at": iso_utc(line.exported_at),
        },
    }


def split_by_payer(lines: Iterable[LineView]) -> tuple[list[LineView], list[LineView]]:
    """(gemeente claims: Wmo only, everything else: ELV, Wlz and unknown funding)."""
    gemeente: list[LineView] = []
    other: list[LineView] = []
    for line in lines:
        (gemeente if line.is_gemeente_claim else other).append(line)
    return gemeente, other


# Column headers in the words of the pages; the order is the documented format
# (docs/exports.md), which a gemeente's or provider's system may read by position.
CSV_HEADER = (
    "Regel",
    "Soort",
    "Crediteert regel",
    "Versie",
    "Reservering",
    "Cliëntreferentie",
    "Aanbieder",
    "AGB-code",
    "Locatie",
    "Gemeentecode",
    "Gemeente",
    "Financiering",
    "Betaler",
    "Productcode",
    "Eerste nacht",
    "Laatste nacht",
    "Nachten",
    "Tarief",
    "Bedrag",
    "Voorlopig",
    "Export",
)
KIND_LABELS = {"claim": "declaratie", "credit": "creditering"}


# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(…), =cmd|…,
# +, - and @ likewise; a leading tab or carriage return is dropped and what follows is read).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number as these files write one (a count, a credit, an amount "-12,50" or "-12.50").
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a cell no spreadsheet runs as a formula: text that would start one gets a
    leading apostrophe (Excel shows the text as typed); numbers, also negative ones, stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if not _NUMBER.fullmatch(value):
            return "'" + value
    return value


class SafeCsvWriter:
    """The one CSV writer of every export: semicolons (Dutch Excel's default), and every cell
    through `spreadsheet_safe`, since names in it are typed by providers."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, delimiter=";", lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def lines_csv(lines: Sequence[LineView], names: Names, *, decimal_comma: bool = False) -> str:
    """CSV text: the header, then one row per line; no comment rows, which an importer would
    read as data (what the file is goes in its name). Byte-stable: the same lines give the
    same text."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_HEADER)
    for line in lines:
        municipality = names.municipalities[line.municipality_id]
        provider = names.providers[line.provider_id]
        writer.writerow(
            (
                line.line_id,
                KIND_LABELS[line.kind],
                line.credits or "",
                line.version,
                line.reservation_id,
                line.client_reference,
                provider.name,
                provider.agb_code or "",
                names.locations[line.location_id].name,
                municipality.code,
                municipality.name,
                line.funding,
                line.payer or "onbekend",
                line.product_code or "",
                line.period_from.isoformat(),
                (line.period_to - timedelta(days=1)).isoformat(),
                line.nights,
                formatting.csv_money(line.price_cents, comma=decimal_comma),
                formatting.csv_money(line.amount_cents, comma=decimal_comma),
                "ja" if line.provisional else "nee",
                line.export_seq or "",
            )
        )
    return out.getvalue()


def table_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text: the header, then the rows; what the table is goes in the file's name."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
