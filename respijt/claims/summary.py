"""Sums of a month's claim lines per provider and per gemeente, for the pages: how many lines,
nights and euros, and how many are still provisional or have no tariff. No client data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from respijt.claims.formats import Names
from respijt.claims.ledger import LineView


@dataclass
class Totals:
    key: int
    name: str
    lines: int = 0
    nights: int = 0
    amount_cents: int = 0
    without_tariff: int = 0  # lines whose nights have no tariff (no amount)
    provisional: int = 0

    def add(self, line: LineView) -> None:
        self.lines += 1
        self.nights += line.nights
        if line.amount_cents is None:
            self.without_tariff += 1
        else:
            self.amount_cents += line.amount_cents
        if line.provisional:
            self.provisional += 1


def _totals(lines: Iterable[LineView], key: Callable[[LineView], tuple[int, str]]) -> list[Totals]:
    found: dict[int, Totals] = {}
    for line in lines:
        ident, name = key(line)
        found.setdefault(ident, Totals(ident, name)).add(line)
    return sorted(found.values(), key=lambda t: (t.name, t.key))


def per_provider(lines: Iterable[LineView], names: Names) -> list[Totals]:
    return _totals(lines, lambda line: (line.provider_id, names.providers[line.provider_id].name))


def per_municipality(lines: Iterable[LineView], names: Names) -> list[Totals]:
    def key(line: LineView) -> tuple[int, str]:
        municipality = names.municipalities[line.municipality_id]
        return line.municipality_id, f"{municipality.name} ({municipality.code})"

    return _totals(lines, key)


def grand_total(lines: Iterable[LineView]) -> Totals:
    total = Totals(0, "Totaal")
    for line in lines:
        total.add(line)
    return total
