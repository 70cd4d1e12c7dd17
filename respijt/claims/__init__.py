"""Declaratie (claim lines per month), the leegstand register and the KPIs.

Plain functions over a session: no Flask, flush but never commit.
"""
