"""gunicorn settings, read from the working directory (gunicorn loads ./gunicorn.conf.py).

Before any worker starts, the RESPIJT_* settings are checked and RESPIJT_SECRET_KEY is
required (every worker must sign with the same key): a wrong setting stops gunicorn with one
paragraph naming it. The garbage collector of each worker is tuned; docs/configuration.md
("gunicorn workers") explains why. Command-line options (-w, -b, …) still apply as documented.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

# A request frees most of its objects by reference counting; a cyclic collection every 700 net
# allocations (the default) ran about once per availability answer and found nothing to free.
# Not much higher: the search page's cyclic garbage piled up to a 170 MB worker at 50,000.
GC_THRESHOLD = 5_000


def on_starting(server: Any) -> None:
    """In the master, before the workers load the app."""
    from respijt.config import ConfigError, check_environment, require_secret_key

    try:
        check_environment(os.environ)
        require_secret_key(os.environ, "gunicorn")
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)


def post_worker_init(worker: Any) -> None:
    """After the worker has loaded the app: what exists now lives as long as the worker."""
    # Out of the collector's generations: a full collection no longer walks ~150,000 objects
    # of Flask, SQLAlchemy and marshmallow (~100–200 ms, once every few hundred requests).
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD)
