"""Start the real mcprag server (daphne, subprocess, free port, its own database) for e2e tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx2

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _own_database_url(workdir: Path) -> tuple[str, callable]:
    """A fresh database for the server: a new PostgreSQL database when DATABASE_URL is PostgreSQL."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / 'e2e.sqlite3'}", lambda: None
    import psycopg

    name = f"mcprag_e2e_{secrets.token_hex(4)}"
    parts = urlsplit(base)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _default_sigint() -> None:
    """In the server's process before exec: SIGINT back to its default. A suite started as a
    background job of a non-interactive shell inherits SIGINT ignored, and daphne (Twisted) keeps
    an ignored SIGINT ignored, as a nohup'd process should; a server under test must see Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class LiveServer:
    base_url: str
    env: dict
    workdir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    worker: subprocess.Popen | None = None
    _drop_db: callable = field(default=lambda: None)

    def publish_client_metadata(self, client_id: str, document: dict) -> None:
        """Make the server's (test) CIMD fetcher serve ``document`` for ``client_id``."""
        path = Path(self.env["MCPRAG_TEST_CIMD_DOCUMENTS"])
        documents = json.loads(path.read_text()) if path.exists() else {}
        documents[client_id] = document
        path.write_text(json.dumps(documents))

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=check,
            timeout=600,
        )

    def start(self, server: str = "daphne", workers: int = 1) -> None:
        """Serve with ``server``: "daphne" (the default) or "uvicorn" (as the README's production
        command runs it: no lifespan; ``workers`` processes)."""
        port = urlsplit(self.base_url).port
        self.log_path = self.workdir / "server.log"
        log = open(self.log_path, "wb")
        command = {
            "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "mcprag_site.asgi:application"],
            "uvicorn": ["-m", "uvicorn", "mcprag_site.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                        "--lifespan", "off", *(["--workers", str(workers)] if workers > 1 else [])],
        }[server]
        self.process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, preexec_fn=_default_sigint)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx2.get(f"{self.base_url}/.well-known/oauth-authorization-server", timeout=2).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def start_worker(self) -> None:
        """A real Celery worker (solo pool) on this server's own queue, for runs with REDIS_URL set
        (Celery is then not eager, so index jobs need a worker)."""
        queue = self.env.setdefault("MCPRAG_CELERY_QUEUE", f"e2e-{secrets.token_hex(4)}")
        log = open(self.workdir / "worker.log", "wb")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "mcprag_site", "worker", "--pool=solo", "-Q", queue,
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.worker_log()}")
            if "ready." in self.worker_log():
                return
            time.sleep(0.3)
        raise RuntimeError(f"celery worker did not start:\n{self.worker_log()}")

    def worker_log(self) -> str:
        path = self.workdir / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._drop_db()


def make_live_server(workdir: Path) -> LiveServer:
    port = free_port()
    database_url, drop = _own_database_url(workdir)
    env = dict(os.environ)
    env.update(
        MCPRAG_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="tests.support.e2e_settings",
        MCPRAG_TEST_CIMD_DOCUMENTS=str(workdir / "cimd-documents.json"),
        # index tools may index pytest's temporary directories and the virtualenv's packages
        MCPRAG_SOURCE_ROOTS=os.pathsep.join([str(workdir.parent), sysconfig.get_paths()["purelib"]]),
        MCPRAG_CLONE_DIR=str(workdir / "clones"),  # git clones (and their history) stay in the test's directory
        MCPRAG_PERIODIC_TASKS="false",  # no scheduled sync or cleanup at a time the test does not choose
    )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", env=env, workdir=workdir, _drop_db=drop)
    server.manage("migrate", "--noinput")
    return server
