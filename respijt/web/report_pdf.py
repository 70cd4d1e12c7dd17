"""The printable monthly report as a PDF: the same HTML and stylesheet, rendered by WeasyPrint.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0); without it
`render` raises PdfUnavailable and the page says to print from the browser. Only the report's
own stylesheet is read (from the static folder); nothing is fetched over the network.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

STATIC_PREFIX = "/static/"
_BASE_URL = "respijt:/"  # relative URLs in the page resolve here, then to the static folder


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it needs are missing."""


def _fetcher(static_folder: str) -> Any:
    root = os.path.realpath(static_folder)

    def fetch(url: str) -> dict[str, Any]:
        path = url.removeprefix("respijt:")
        if not path.startswith(STATIC_PREFIX):
            raise ValueError(f"not fetched for a PDF: {url}")
        file_path = os.path.realpath(os.path.join(root, path[len(STATIC_PREFIX) :]))
        if not file_path.startswith(root + os.sep) or not os.path.isfile(file_path):
            raise ValueError(f"not a static file: {url}")
        with open(file_path, "rb") as handle:
            content = handle.read()
        mime_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        return {"string": content, "mime_type": mime_type, "redirected_url": url}

    return fetch


def render(html: str, static_folder: str) -> bytes:
    """The PDF of one rendered report page."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango could not be loaded
        raise PdfUnavailable(str(exc)) from exc
    document = weasyprint.HTML(string=html, base_url=_BASE_URL, url_fetcher=_fetcher(static_folder))
    return bytes(document.write_pdf())
