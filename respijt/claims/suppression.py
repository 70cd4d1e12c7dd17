"""Small-cell suppression: aggregates only, and no count of 1–4 people is ever shown.

- A count of people from 1 to 4 becomes None and its path is recorded; 0 is shown (it
  describes nobody).
- A share or statistic over fewer than 5 people becomes None too.
- In a breakdown whose total is shown, one suppressed cell could be recovered by subtraction,
  so the smallest other non-zero cell is suppressed with it (secondary suppression).
"""

from __future__ import annotations

from collections.abc import Mapping

THRESHOLD = 5


class Suppressor:
    def __init__(self, threshold: int = THRESHOLD) -> None:
        self.threshold = threshold
        self.paths: list[str] = []

    def hidden(self, n: int) -> bool:
        return 0 < n < self.threshold

    def count(self, path: str, n: int) -> int | None:
        if self.hidden(n):
            self.paths.append(path)
            return None
        return n

    def statistic(self, path: str, base: int, value: float | None) -> float | None:
        """A share, median or percentile over `base` people."""
        if self.hidden(base):
            self.paths.append(path)
            return None
        return value

    def breakdown(self, path: str, counts: Mapping[str, int]) -> dict[str, int | None]:
        """Cells of one total; a lone suppressed cell takes the next smallest one with it."""
        hidden = {key for key, n in counts.items() if self.hidden(n)}
        if len(hidden) == 1:
            rest = sorted((n, key) for key, n in counts.items() if n > 0 and key not in hidden)
            if rest:
                hidden.add(rest[0][1])
        for key in sorted(hidden):
            self.paths.append(f"{path}.{key}")
        return {key: (None if key in hidden else n) for key, n in counts.items()}
