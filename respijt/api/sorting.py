"""Sorting of the API's lists (NLGov): `sort` in the query holds comma-separated field names,
each with a leading `-` for descending, e.g. `sort=-arrival,createdAt`. Each list allows its own
fields; an unknown field is refused with a Dutch reason (a 422 with invalidParams, like any other
wrong query value: docs/api.md). Without `sort` a list keeps its own default order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marshmallow import ValidationError, fields

SortKeys = tuple[tuple[str, bool], ...]
T = TypeVar("T")


class Sort(fields.String):
    """The `sort` query key of a list that allows `allowed` (camelCase names as the client
    sees them); loads into ((name, descending), ...)."""

    def __init__(self, allowed: Sequence[str], **kwargs: Any) -> None:
        self.allowed = tuple(allowed)
        names = ", ".join(self.allowed)
        kwargs.setdefault(
            "metadata",
            {
                "description": (
                    f"volgorde: veldnamen met komma's, een '-' ervoor voor aflopend "
                    f"(mogelijk: {names})"
                ),
                "example": f"-{self.allowed[0]}",
                "pattern": rf"^-?({'|'.join(self.allowed)})(,-?({'|'.join(self.allowed)}))*$",
            },
        )
        super().__init__(**kwargs)

    # Documented as a string, loaded as sort keys.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> SortKeys:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = [part.strip() for part in text.split(",")]
        keys: list[tuple[str, bool]] = []
        for part in parts:
            descending = part.startswith("-")
            name = part.removeprefix("-")
            if name not in self.allowed:
                shown = name if name.isprintable() and len(name) <= 40 else "dit veld"
                shown = shown or "(leeg)"
                raise ValidationError(
                    f"Op '{shown}' kunt u niet sorteren. Kies uit: {', '.join(self.allowed)}."
                )
            if all(name != seen for seen, _ in keys):  # a repeated field: the first counts
                keys.append((name, descending))
        return tuple(keys)


def order_by(keys: SortKeys, columns: dict[str, Any], default: Sequence[Any]) -> list[Any]:
    """SQL ORDER BY terms: the asked keys first, then `default` (which ends in a unique column,
    so the pages are stable); only `default` when nothing was asked."""
    terms = [columns[name].desc() if down else columns[name].asc() for name, down in keys]
    return [*terms, *default]


def sort_rows(rows: list[T], keys: SortKeys, values: dict[str, Callable[[T], Any]]) -> list[T]:
    """A whole (bounded) list sorted in Python by `keys`, stable, so the list's own order
    breaks ties."""
    for name, descending in reversed(keys):
        rows = sorted(rows, key=values[name], reverse=descending)
    return rows
