"""gunicorn settings, read from the working directory (gunicorn loads ./gunicorn.conf.py).

Before any worker starts, the RESPIJT_* settings are checked and RESPIJT_SECRET_KEY is
required (every worker must sign with the same key): a wrong setting stops gunicorn with one
paragraph naming it. The garbage collector of each worker is tuned (docs/configuration.md,
"gunicorn workers"), and so are the logs and metrics (docs/operations.md). Command-line
options (-w, -b, …) still apply as documented.
"""

from __future__ import annotations

import gc
import glob
import os
import shutil
import sys
import tempfile
from typing import Any

# A request frees most of its objects by reference counting; a cyclic collection every 700 net
# allocations (the default) ran about once per availability answer and found nothing to free.
# Not much higher: the search page's cyclic garbage piled up to a 170 MB worker at 50,000.
GC_THRESHOLD = 5_000

# Logs: the access log on stdout, token paths and query values redacted, with the request id
# (respijt.serving.gunicorn_logger); respijt's own messages on stderr. RESPIJT_LOG_FORMAT=json makes
# both JSON lines.
accesslog = "-"
logger_class = "respijt.serving.gunicorn_logger.RespijtLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'

# Metrics: each worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR, and /metrics
# adds them up. It must be set before a worker imports prometheus_client; without one given,
# a fresh folder is made here and removed when gunicorn stops.
METRICS_DIR_PREFIX = "respijt-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_DIR_PREFIX)


def on_starting(server: Any) -> None:
    """In the master, before any worker: the settings and the key checked, logging for
    respijt.*, and no counts of a previous run left in the metrics folder."""
    from respijt.config import (
        ConfigError,
        check_environment,
        log_format_from_env,
        require_secret_key,
    )
    from respijt.serving.logs import configure_logging

    try:
        check_environment(os.environ)
        require_secret_key(os.environ, "gunicorn")
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)
    configure_logging(log_format_from_env(os.environ))
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for path in glob.glob(os.path.join(folder, "*.db")):
        os.remove(path)


def post_worker_init(worker: Any) -> None:
    """After the worker has loaded the app: what exists now lives as long as the worker."""
    # Out of the collector's generations: a full collection does not walk the long-lived objects
    # of Flask, SQLAlchemy and marshmallow again and again (docs/performance.md).
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD)


def child_exit(server: Any, worker: Any) -> None:
    """A worker's live gauges leave with it; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    made_here = os.path.basename(folder).startswith(METRICS_DIR_PREFIX)
    if made_here and os.path.dirname(folder) == tempfile.gettempdir():
        shutil.rmtree(folder, ignore_errors=True)
