"""What the coordinator's and the provider's claims and leegstand pages share: the month from
the address, the month's claim lines, their CSV download, the leegstand register and euros in
Dutch.

The CSV files are those of the API (docs/exports.md): UTF-8 with BOM, `;`, Dutch headers, no
comment rows, what the file holds in its name; the pages always use the decimal comma. Every
claim line that leaves as CSV writes an access-log row for its stay, as the API does; the pages
themselves show sums only (no client reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from respijt import clock, formatting
from respijt.care_requests.access_log import log_reservations_access
from respijt.claims import formats, ledger, leegstand, summary
from respijt.claims.months import Month
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.serving.downloads import csv_response

# The purpose of reading claim lines in the access log (as the API's).
CLAIMS_PURPOSE = "declaratie"
LISTS = {"gemeente": "gemeente-wmo", "overig": "overige-betalers"}


def month_arg(errors: dict[str, str] | None = None) -> Month:
    """The month of `?maand=JJJJ-MM`; this month when empty. A wrong one: the message in
    `errors['maand']` (a page shows this month) or, without `errors`, a 400 (a download)."""
    text = (request.args.get("maand") or "").strip()
    if not text:
        return Month.of(clock.today())
    try:
        return Month.parse(text, "maand")
    except InvalidInput:
        if errors is None:
            raise
        errors["maand"] = "Kies een maand als jjjj-mm, bijv. 2027-03."
        return Month.of(clock.today())


def list_arg() -> str:
    chosen = request.args.get("lijst") or "gemeente"
    if chosen not in LISTS:
        raise InvalidInput("Kies de lijst gemeente of overig.")
    return chosen


@dataclass
class MonthClaims:
    """A month's lines split by payer, with the names they need."""

    gemeente: list[ledger.LineView]
    other: list[ledger.LineView]
    names: formats.Names

    @property
    def per_provider(self) -> list[summary.Totals]:
        return summary.per_provider(self.gemeente, self.names)

    @property
    def per_municipality(self) -> list[summary.Totals]:
        return summary.per_municipality(self.gemeente, self.names)

    @property
    def total(self) -> summary.Totals:
        return summary.grand_total(self.gemeente)


def month_claims(
    month: Month,
    *,
    provider_id: int | None,
    municipality_id: int | None = None,
    regions: frozenset[int] | None = None,
) -> MonthClaims:
    lines = ledger.month_lines(
        db.session, month, today=clock.today(), provider_id=provider_id, regions=regions
    )
    if municipality_id is not None:
        lines = [line for line in lines if line.municipality_id == municipality_id]
    gemeente, other = formats.split_by_payer(lines)
    return MonthClaims(gemeente, other, formats.names_for(db.session, lines))


def claims_csv(
    caller: Caller,
    claims: MonthClaims,
    chosen: str,
    filename: str,
    *,
    action: str = "claims.list",
) -> ResponseReturnValue:
    """One list as the CSV download; each line's stay gets its access-log row (export)."""
    lines = claims.gemeente if chosen == "gemeente" else claims.other
    log_reservations_access(
        db.session,
        caller=caller,
        reservation_ids=(line.reservation_id for line in lines),
        action=action,
        event="export",
        purpose=CLAIMS_PURPOSE,
        source=request.remote_addr,
    )
    text = formats.lines_csv(lines, claims.names, decimal_comma=True)
    return csv_response(text, f"{filename}-{LISTS[chosen]}.csv")


def register(
    month: Month,
    *,
    provider_id: int | None,
    municipality_code: str | None = None,
    regions: frozenset[int] | None = None,
) -> list[leegstand.UnitOccupancy]:
    return leegstand.unit_occupancy(
        db.session,
        month.first,
        month.end,
        provider_id=provider_id,
        municipality_code=municipality_code,
        regions=regions,
    )


def month_is_over(month: Month) -> bool:
    return month.end <= clock.today()


def register_csv(month: Month, rows: list[leegstand.UnitOccupancy]) -> ResponseReturnValue:
    text = formats.table_csv(
        leegstand.REGISTER_HEADER,
        leegstand.register_rows(
            rows, str(month), complete=month_is_over(month), decimal_comma=True
        ),
    )
    return csv_response(text, f"leegstandregister-{month}.csv")


def percent(value: float | None) -> str:
    return formatting.percent(value)


def page_context(month: Month) -> dict[str, Any]:
    """What every figures page shows: the month, the one before and after, the formatters."""
    previous = Month.of(month.first - timedelta(days=1))
    return {
        "month": str(month),
        "previous_month": str(previous),
        "next_month": str(month.next()),
        # The months as a person reads them ("december 2026"); the codes stay in the links.
        "month_words": formatting.month_long(month.first),
        "previous_words": formatting.month_long(previous.first),
        "next_words": formatting.month_long(month.next().first),
        "provisional": not month_is_over(month),
        "percent": percent,
    }
