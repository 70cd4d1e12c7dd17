"""The production shape for the deployment test: a certificate, nginx, gunicorn, the scheduler.

Each piece runs as its own process on a free port of 127.0.0.1, with its logs in the test's
temporary folder; `ProcessGroup` stops all of them however the test ends and hands back their
logs, which the test prints when it fails. Nothing here touches the system nginx service or
any port but the ones it picked.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from gunicorn.config import KNOWN_SETTINGS
from requests.adapters import HTTPAdapter

from respijt import PROJECT_ROOT
from tests.browser.browser import chromium_missing

NGINX = "/usr/sbin/nginx"
START_SECONDS = 30.0


def deployment_missing() -> str | None:
    """Why the deployment test cannot run here (nginx, openssl, chromium), or None."""
    if not (os.path.exists(NGINX) or shutil.which("nginx")):
        return f"Debian's nginx is not installed at {NGINX} (apt-get install nginx-light)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (apt-get install openssl)"
    return chromium_missing()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made now, valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


OPERATIONS_DOC = Path(PROJECT_ROOT) / "docs" / "operations.md"

# What the test changes in the documented block: (documented text, test text).
DOC_SUBSTITUTIONS = (
    ("server 127.0.0.1:8000;", "server 127.0.0.1:{upstream_port};"),
    ("listen 443 ssl;", "listen 127.0.0.1:{port} ssl;"),
    ("/etc/ssl/certs/logeren.example.nl.pem", "{cert}"),
    ("/etc/ssl/private/logeren.example.nl.key", "{key}"),
    ("/var/log/nginx/respijt.access.log", "{tmp}/nginx-access.log"),
)

NGINX_MAIN = """\
# Written by tests/operations/deployment.py around the block documented in docs/operations.md.
{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include /etc/nginx/mime.types;
    include {tmp}/respijt.conf;
}}
"""


def documented_nginx_block() -> str:
    """The ```nginx block of docs/operations.md with a `server {` in it (there is one)."""
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in text.split("```nginx\n")[1:]]
    servers = [block for block in blocks if "\nserver {" in block]
    assert len(servers) == 1, f"docs/operations.md: {len(servers)} nginx blocks with a server"
    return servers[0]


def nginx_config(tmp: Path, *, port: int, upstream_port: int, cert: Path, key: Path) -> Path:
    """nginx.conf in `tmp` that includes the documented block with the test's ports and paths."""
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    values = {"tmp": tmp, "port": port, "upstream_port": upstream_port, "cert": cert, "key": key}
    block = documented_nginx_block()
    for documented, ours in DOC_SUBSTITUTIONS:
        assert block.count(documented) == 1, f"docs/operations.md: {documented!r} not found once"
        block = block.replace(documented, ours.format(**values))
    (tmp / "respijt.conf").write_text(block)
    path = tmp / "nginx.conf"
    path.write_text(
        NGINX_MAIN.format(
            # As root the workers would drop to `nobody`, who may not write the temp folders.
            user="user root;\n" if os.geteuid() == 0 else "",
            **values,
        )
    )
    return path


class SourceAddressAdapter(HTTPAdapter):
    """Connect from another loopback address (127.0.0.2): a visitor the proxy is not."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """Pass `verify=` on each call: a CA bundle in the environment overrides the session's."""
    session = requests.Session()
    session.mount("https://", SourceAddressAdapter(address))
    return session


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ProcessGroup:
    """Processes started for one test; `stop()` ends every one of them, in reverse order."""

    folder: Path
    started: list[Started] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: Mapping[str, str]) -> Started:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                env=dict(env),
                cwd=PROJECT_ROOT,  # gunicorn reads ./gunicorn.conf.py, as in production
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: gunicorn's workers stop with it
            )
        entry = Started(name, process, log)
        self.started.append(entry)
        return entry

    def wait_until(self, entry: Started, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if entry.process.poll() is not None:
                raise RuntimeError(f"{entry.name} stopped at start:\n{self.logs()}")
            try:
                if ready():
                    return
            except (requests.RequestException, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{entry.name} did not become ready ({what}):\n{self.logs()}")

    def stop(self) -> None:
        for entry in reversed(self.started):
            if entry.process.poll() is None:
                entry.process.send_signal(signal.SIGTERM)
        for entry in reversed(self.started):
            try:
                entry.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(entry.process.pid, signal.SIGKILL)
                entry.process.wait(timeout=5)

    def logs(self, tail: int = 4000) -> str:
        parts = []
        for entry in self.started:
            text = entry.log.read_text(errors="replace") if entry.log.exists() else ""
            parts.append(f"--- {entry.name} (exit {entry.process.poll()}) ---\n{text[-tail:]}")
        for extra in ("nginx-error.log",):
            path = self.folder / extra
            if path.exists():
                parts.append(f"--- {extra} ---\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)


def gunicorn_command(
    port: int, folder: Path, *, workers: int = 2, tls: tuple[Path, Path] | None = None
) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["-c", os.path.join(PROJECT_ROOT, "gunicorn.conf.py"), "--graceful-timeout", "5"]
    if any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        # Not the shared default in the home folder, where two test runs would meet.
        command += ["--control-socket", str(folder / "gunicorn.ctl")]
    if tls is not None:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    return [*command, "respijt:create_app()"]


def scheduler_command() -> list[str]:
    return [sys.executable, "-m", "respijt.cli.commands", "scheduler"]


def nginx_command(conf: Path, tmp: Path) -> list[str]:
    return [NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"]
