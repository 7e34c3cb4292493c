"""A local fake of the Stytch API (the part mcprag uses), for the real Stytch SDK to talk to.

Started on 127.0.0.1 by the tests; mcprag points the SDK at it with ``STYTCH_API_BASE_URL``
(the SDK's ``environment`` argument). It keeps users, single-use magic-link tokens with
expiry and PKCE binding, TOTP registrations and recovery codes in memory, and an **outbox** of
the emails it would have sent, so a test can "click" a link. Response shapes follow the SDK's
own models (``stytch.consumer.models.magic_links``, ``.totps`` and ``.users``), for the five
endpoints ``do_POST`` routes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT_ID = "project-test-00000000-0000-0000-0000-000000000000"
SECRET = "secret-test-fake-stytch-0123456789"
PUBLIC_TOKEN = "public-token-test-fake-stytch-0000"
TOTP_CODE = "123456"


@dataclass
class Email:
    to: str
    url: str
    token: str


@dataclass
class FakeStytchState:
    users: dict = field(default_factory=dict)  # user_id -> {"email": ..}
    tokens: dict = field(default_factory=dict)  # token -> {"user_id", "expires", "challenge", "used"}
    totps: dict = field(default_factory=dict)  # user_id -> {"totp_id", "verified", "recovery": set}
    outbox: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    #: Who "signs in at the OAuth provider" when the browser reaches the OAuth start endpoint.
    oauth_email: str = "olivia@example.com"

    def last_email(self, to: str) -> Email:
        return [e for e in self.outbox if e.to == to][-1]


def _user_json(user_id: str, state: FakeStytchState) -> dict:
    totp = state.totps.get(user_id)
    return {
        "user_id": user_id, "status": "active", "is_locked": False, "roles": [],
        "emails": [{"email_id": f"email-{user_id}", "email": state.users[user_id]["email"], "verified": True}],
        "phone_numbers": [], "webauthn_registrations": [], "providers": [], "crypto_wallets": [],
        "biometric_registrations": [],
        "totps": [{"totp_id": totp["totp_id"], "verified": totp["verified"]}] if totp else [],
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeStytch/1"

    def log_message(self, *args):  # quiet
        pass

    @property
    def state(self) -> FakeStytchState:
        return self.server.state  # type: ignore[attr-defined]

    def _send(self, status: int, body: dict) -> None:
        body = {"status_code": status, "request_id": f"req-{secrets.token_hex(4)}", **body}
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, {"error_type": error_type, "error_message": message, "error_url": "https://stytch.com/docs"})

    def do_GET(self):  # noqa: N802
        """``/v1/public/oauth/{provider}/start``: the provider's consent is skipped; the browser goes
        straight back to ``login_redirect_url`` with a single-use token bound to the PKCE challenge."""
        from urllib.parse import parse_qs, urlencode, urlsplit

        parts = urlsplit(self.path)
        match = parts.path.split("/")
        if len(match) != 6 or match[1:4] != ["v1", "public", "oauth"] or match[5] != "start":
            return self._error(404, "not_found", "No such endpoint in the fake.")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("public_token") != PUBLIC_TOKEN:
            return self._error(401, "invalid_public_token", "Bad public token.")
        self.state.calls.append((parts.path, {k: v for k, v in query.items() if k != "public_token"}))
        email = self.state.oauth_email.lower()
        user_id = next((uid for uid, u in self.state.users.items() if u["email"] == email), None)
        if user_id is None:
            user_id = f"user-test-{secrets.token_hex(6)}"
            self.state.users[user_id] = {"email": email}
        token = secrets.token_urlsafe(24)
        self.state.tokens[token] = {"user_id": user_id, "expires": time.time() + 600, "challenge": query.get("code_challenge"),
                                    "used": False, "provider": match[4]}
        target = query["login_redirect_url"]
        self.send_response(302)
        self.send_header("Location", f"{target}{'&' if '?' in target else '?'}{urlencode({'stytch_token_type': 'oauth', 'token': token})}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _oauth_authenticate(self, data):
        record = self.state.tokens.get(data.get("token", ""))
        if record is None or record["used"] or record["expires"] < time.time() or "provider" not in record:
            return self._error(404, "oauth_token_not_found", "The OAuth token could not be authenticated.")
        verifier = data.get("code_verifier") or ""
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if record["challenge"] and computed != record["challenge"]:
            return self._error(400, "pkce_mismatch", "The code verifier does not match.")
        record["used"] = True
        user_id = record["user_id"]
        self._send(200, {"user_id": user_id, "provider_subject": f"sub-{user_id}", "provider_type": record["provider"].title(),
                         "session_token": "", "session_jwt": "", "reset_sessions": False,
                         "oauth_user_registration_id": f"oauth-reg-{user_id}", "user": _user_json(user_id, self.state),
                         "provider_values": {"access_token": "", "refresh_token": "", "id_token": "", "scopes": []}})

    def do_POST(self):  # noqa: N802
        expected = "Basic " + base64.b64encode(f"{PROJECT_ID}:{SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._error(401, "unauthorized_credentials", "Bad project credentials.")
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        self.state.calls.append((self.path, {k: v for k, v in data.items() if k not in ("token", "code_verifier")}))
        route = {
            "/v1/magic_links/email/login_or_create": self._login_or_create,
            "/v1/magic_links/authenticate": self._authenticate,
            "/v1/totps": self._totp_create,
            "/v1/totps/authenticate": self._totp_authenticate,
            "/v1/totps/recover": self._totp_recover,
            "/v1/oauth/authenticate": self._oauth_authenticate,
        }.get(self.path.split("?")[0])
        if route is None:
            return self._error(404, "not_found", "No such endpoint in the fake.")
        route(data)

    def _login_or_create(self, data):
        email = data["email"].lower()
        user_id = next((uid for uid, u in self.state.users.items() if u["email"] == email), None)
        created = user_id is None
        if created:
            user_id = f"user-test-{secrets.token_hex(6)}"
            self.state.users[user_id] = {"email": email}
        token = secrets.token_urlsafe(24)
        minutes = data.get("login_expiration_minutes") or 60
        self.state.tokens[token] = {"user_id": user_id, "expires": time.time() + minutes * 60,
                                    "challenge": data.get("code_challenge"), "used": False}
        url = (data.get("signup_magic_link_url") if created else data.get("login_magic_link_url")) or ""
        link = f"{url}{'&' if '?' in url else '?'}stytch_token_type=magic_links&token={token}"
        self.state.outbox.append(Email(to=email, url=link, token=token))
        self._send(200, {"user_id": user_id, "email_id": f"email-{user_id}", "user_created": created})

    def _authenticate(self, data):
        record = self.state.tokens.get(data.get("token", ""))
        if record is None or record["used"] or record["expires"] < time.time():
            return self._error(404, "magic_link_not_found", "The magic link could not be authenticated.")
        if record["challenge"]:
            verifier = data.get("code_verifier") or ""
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if computed != record["challenge"]:
                return self._error(400, "pkce_mismatch", "The code verifier does not match.")
        record["used"] = True
        user_id = record["user_id"]
        self._send(200, {"user_id": user_id, "method_id": f"email-{user_id}", "session_token": "", "session_jwt": "",
                         "reset_sessions": False, "user": _user_json(user_id, self.state)})

    def _totp_create(self, data):
        user_id = data["user_id"]
        if user_id not in self.state.users:
            return self._error(404, "user_not_found", "No such user.")
        recovery = {f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(5)}
        totp_id = f"totp-{secrets.token_hex(4)}"
        self.state.totps[user_id] = {"totp_id": totp_id, "verified": False, "recovery": recovery}
        self._send(200, {"totp_id": totp_id, "secret": "JBSWY3DPEHPK3PXP", "qr_code": "", "recovery_codes": sorted(recovery),
                         "user": _user_json(user_id, self.state), "user_id": user_id})

    def _totp_authenticate(self, data):
        user_id = data["user_id"]
        totp = self.state.totps.get(user_id)
        if totp is None or data.get("totp_code") != TOTP_CODE:
            return self._error(401, "otp_code_not_found", "The TOTP code is not valid.")
        totp["verified"] = True
        self._send(200, {"user_id": user_id, "totp_id": totp["totp_id"], "session_token": "", "session_jwt": "",
                         "user": _user_json(user_id, self.state)})

    def _totp_recover(self, data):
        user_id = data["user_id"]
        totp = self.state.totps.get(user_id)
        if totp is None or data.get("recovery_code") not in totp["recovery"]:
            return self._error(404, "recovery_code_not_found", "The recovery code is not valid.")
        totp["recovery"].discard(data["recovery_code"])
        self._send(200, {"user_id": user_id, "totp_id": totp["totp_id"], "session_token": "", "session_jwt": "",
                         "user": _user_json(user_id, self.state)})


class FakeStytch:
    """``with FakeStytch() as fake: fake.base_url …`` — a ThreadingHTTPServer on a free port."""

    def __init__(self):
        self.state = FakeStytchState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.state = self.state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def expire(self, token: str) -> None:
        self.state.tokens[token]["expires"] = time.time() - 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
