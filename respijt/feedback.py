"""Feedback from the public pages, stored minimally: when, which page, and the words given.

No account, no name, no phone number: a line of JSON appended to a file under the instance
folder (one `write` per line with O_APPEND, so several workers do not interleave lines).
"""

from __future__ import annotations

import json
import os
from datetime import datetime

MAX_MESSAGE = 2000


def store_feedback(
    path: str, *, now: datetime, page: str, message: str, rating: str | None
) -> None:
    line = json.dumps(
        {
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page": page[:200],
            "rating": rating,
            "message": message.strip()[:MAX_MESSAGE],
        },
        ensure_ascii=False,
    )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
