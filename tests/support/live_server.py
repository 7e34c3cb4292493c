"""Start the real mcprag server (daphne, subprocess, free port, its own database) for e2e tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
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


@dataclass
class LiveServer:
    base_url: str
    env: dict
    workdir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
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

    def start(self) -> None:
        port = urlsplit(self.base_url).port
        self.log_path = self.workdir / "server.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "mcprag_site.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
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
    )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", env=env, workdir=workdir, _drop_db=drop)
    server.manage("migrate", "--noinput")
    return server
