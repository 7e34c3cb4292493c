"""Start the test OpenID Connect provider as a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.live_server import ROOT, free_port

#: The provider's people; a test may change ``groups``, ``amr`` and ``email_verified`` with
#: :meth:`Provider.update` (read at every sign-in), not add people (created at start).
PEOPLE = [
    {"username": "grace", "password": "grace-pw-1", "email": "grace@corp.example", "groups": ["mcprag-admins", "payments"],
     "amr": ["pwd", "mfa"]},
    {"username": "linus", "password": "linus-pw-1", "email": "linus@corp.example", "groups": ["engineering"],
     "amr": ["pwd"]},
    {"username": "mallory", "password": "mallory-pw-1", "email": "mallory@corp.example", "groups": ["mcprag-admins"],
     "email_verified": False},
    {"username": "ken", "password": "ken-pw-1", "email": "Ken@Corp.Example", "groups": []},
]


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    people_path: Path
    process: subprocess.Popen

    def update(self, username: str, **changes) -> None:
        people = json.loads(self.people_path.read_text())
        for person in people:
            if person["username"] == username:
                person.update(changes)
        self.people_path.write_text(json.dumps(people))

    def password(self, username: str) -> str:
        return next(p["password"] for p in PEOPLE if p["username"] == username)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(workdir: Path, redirect_uris: list[str]) -> Provider:
    port = free_port()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    people_path = workdir / "idp-people.json"
    people_path.write_text(json.dumps(PEOPLE))
    client = {"client_id": f"mcprag-{secrets.token_hex(4)}", "client_secret": secrets.token_urlsafe(32),
              "redirect_uris": redirect_uris}
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.support.oidc_provider.settings",
           "MCPRAG_TEST_IDP_SECRET_KEY": secrets.token_urlsafe(40), "MCPRAG_TEST_IDP_RSA_KEY": key,
           "MCPRAG_TEST_IDP_DATABASE": str(workdir / "idp.sqlite3"), "MCPRAG_TEST_IDP_PEOPLE": str(people_path),
           "MCPRAG_TEST_IDP_CLIENT": json.dumps(client), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    log = open(workdir / "idp.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "tests.support.oidc_provider", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}/o"
    deadline = time.monotonic() + 180  # migrating its SQLite database takes a while on a loaded machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("OIDC provider exited early:\n" + (workdir / "idp.log").read_text(errors="replace"))
        try:
            if httpx2.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return Provider(issuer, client["client_id"], client["client_secret"], people_path, process)
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("OIDC provider did not start:\n" + (workdir / "idp.log").read_text(errors="replace"))
