"""Declaratie (claim lines per month), the leegstand register and the KPIs.

Plain functions over a session: no Flask, flush but never commit.
"""

from respijt.claims.kpis import KpiFilter, kpi_figures, monthly_series, register_kpi_source
from respijt.claims.ledger import NOTE, LineView, export_lines, export_month, month_lines
from respijt.claims.leegstand import UnitOccupancy, total_occupancy, unit_occupancy
from respijt.claims.months import Month
from respijt.claims.tariffs import add_tariff, list_tariffs

__all__ = [
    "NOTE",
    "KpiFilter",
    "LineView",
    "Month",
    "UnitOccupancy",
    "add_tariff",
    "export_lines",
    "export_month",
    "kpi_figures",
    "list_tariffs",
    "month_lines",
    "monthly_series",
    "register_kpi_source",
    "total_occupancy",
    "unit_occupancy",
]
