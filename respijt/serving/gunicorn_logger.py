"""gunicorn's logger for respijt (`logger_class` in gunicorn.conf.py): the access log with
token paths and query values redacted and the request id, as text or JSON lines.

The text line follows `access_log_format`; every atom that holds the request target (the
request line, path, query, referer and their raw environ forms) is redacted first. The JSON
line has fixed fields. With RESPIJT_LOG_FORMAT=json gunicorn's own messages are JSON too.
"""

from __future__ import annotations

import json
import os
import traceback
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger

from respijt.config import log_format_from_env
from respijt.serving.logs import JsonFormatter, redact_target

# Atoms (lower-cased, as gunicorn keys them) that carry the target or another page's URL.
_TARGET_ATOMS = ("{raw_uri}e", "{path_info}e", "{request_uri}e", "{http_referer}e")
_DROPPED_ATOMS = ("{query_string}e", "{cookie}i", "{authorization}i", "{x-request-token}i")


class RespijtLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.log_format = log_format_from_env(os.environ)
        if self.log_format == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        target = redact_target(environ.get("RAW_URI") or environ.get("PATH_INFO") or "")
        atoms["r"] = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = target.split("?", 1)[0]
        atoms["q"] = target.split("?", 1)[1] if "?" in target else ""
        if atoms.get("f", "-") != "-":
            atoms["f"] = redact_target(atoms["f"])
        for key in _TARGET_ATOMS:
            if key in atoms:
                atoms[key] = redact_target(str(atoms[key]))
        if "{referer}i" in atoms:
            atoms["{referer}i"] = redact_target(str(atoms["{referer}i"]))
        for key in _DROPPED_ATOMS:
            atoms.pop(key, None)
        return atoms

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if self.log_format != "json":
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        try:
            atoms = self.atoms(resp, req, environ, request_time)
            line = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": "gunicorn.access",
                "request_id": atoms.get("{x-request-id}o"),
                "remote_addr": atoms["h"],
                "method": atoms["m"],
                "path": atoms["U"],
                "query": atoms["q"] or None,
                "status": int(atoms["s"]),
                "bytes": atoms["B"],
                "duration_ms": round(atoms["D"] / 1000, 1),
                "user_agent": atoms["a"],
            }
            self.access_log.info(json.dumps(line, ensure_ascii=False))
        except Exception:
            self.error(traceback.format_exc())
