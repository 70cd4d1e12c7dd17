"""CORS for the public reads, and nothing else (docs/security.md "Other origins").

A gemeente website or an open-data portal may read, from a script on its own origin, the
availability search, the open availability feed and the OpenAPI document: anonymous answers
without personal data. Only GET (and HEAD) is allowed, without credentials (no cookies, no
Authorization). Every other route answers without CORS headers, so a browser refuses another
origin's script to read it, and a preflight for any write is refused.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

# Paths (regular expressions, matched from the start) another origin may read.
PUBLIC_READS = (
    r"/api/v1/availability$",
    r"/api/v1/open-data/free-beds$",
    r"/api/v1/openapi\.json$",
)
# How long a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE = 600


def init_cors(app: Flask) -> None:
    CORS(
        app,
        resources={path: {} for path in PUBLIC_READS},
        origins="*",
        methods=["GET", "HEAD"],
        allow_headers=["If-None-Match", "Accept"],
        expose_headers=["ETag", "API-Version", "Content-Disposition"],
        supports_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
        send_wildcard=True,
        vary_header=False,
    )
