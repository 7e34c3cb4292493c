"""The loopback redirect listener for the browser sign-in — RFC 8252 §7.3
(https://www.rfc-editor.org/rfc/rfc8252#section-7.3).

A native app receives the authorization response on ``http://127.0.0.1:<port>/callback``, with a
port the OS picks at sign-in time (the authorization server "MUST allow any port" for loopback
IP redirect URIs). The listener answers one redirect, shows the person a short page, and hands
``code``, ``state`` and ``iss`` to the SDK, which validates ``state`` and ``iss`` (RFC 9207).
Nothing here is logged: the query carries the authorization code.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import anyio
from mcp.shared.auth import AuthorizationCodeResult

from .errors import LoginFailed

__all__ = ["LoopbackCallback"]

CALLBACK_PATH = "/callback"

_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>mcprag sign-in</title>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto"><h1>{title}</h1><p>{text}</p></body></html>"""


class LoopbackCallback:
    """``with LoopbackCallback() as callback:`` listen on 127.0.0.1, random port, until the block ends."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._answered = False
        self._result: AuthorizationCodeResult | None = None
        self._error: str | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="mcprag-loopback", daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackCallback:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    async def wait(self, timeout: float) -> AuthorizationCodeResult:
        """The authorization response, once the browser comes back (the SDK's ``callback_handler``)."""
        arrived = await anyio.to_thread.run_sync(self._done.wait, timeout, abandon_on_cancel=True)
        if not arrived:
            raise LoginFailed(f"no answer from the browser sign-in within {timeout:g} seconds")
        if self._result is None:
            raise LoginFailed(f"the sign-in was not completed: {self._error}")
        return self._result

    def _accept(self, query: dict[str, list[str]]) -> tuple[str, str]:
        """Record the first authorization response; returns the page title and text to show.

        The waiting sign-in is woken by :meth:`_finish`, after the page has been sent.
        """
        with self._lock:
            if self._answered:
                return "Already signed in", "This sign-in has already been handled; you can close this window."
            self._answered = True
        first = {key: values[0] for key, values in query.items() if values}
        if "code" in first:
            self._result = AuthorizationCodeResult(code=first["code"], state=first.get("state"), iss=first.get("iss"))
            title, text = "Signed in", "mcprag is signed in. You can close this window and return to the terminal."
        else:
            reason = first.get("error", "no authorization code in the response")
            if reason == "access_denied":
                reason = "access was denied at the consent page (access_denied)"
            if first.get("error_description"):
                reason += f": {first['error_description']}"
            self._error = reason
            title, text = "Sign-in not completed", f"The sign-in did not complete ({reason}). You can close this window."
        return title, text

    def _finish(self) -> None:
        if self._answered:
            self._done.set()

    def _handler_class(self):
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self._answer(404, "Not found", "Nothing here.")
                    return
                title, text = callback._accept(parse_qs(parts.query))
                try:
                    self._answer(200, title, text)
                finally:
                    callback._finish()

            def _answer(self, status: int, title: str, text: str) -> None:
                body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:  # the request line carries the code: never log it
                pass

        return Handler
