"""The checks every MCP HTTP endpoint (``/mcp``, ``/sse``, ``/messages/``) runs before the SDK
transport sees a request — one module, so the rules cannot drift apart between transports.

Order (first failure answers; MCP 2025-11-25 "Transports" §Security Warning and §Protocol Version
Header, MCP authorization "Token Usage", RFC 6750 §3):

1. ``Host`` and ``Origin`` (DNS-rebinding protection, the SDK's own check): a foreign ``Host``
   gets 421, a foreign ``Origin`` 403 ("MUST respond with HTTP 403 Forbidden"), each with a
   JSON-RPC error body (the SDK answers a plain-text line); after authentication, a POST whose
   ``Content-Type`` is not JSON gets 400 the same way.
2. A token in the query string is refused with 400 ``invalid_request`` (MCP authorization: "MUST
   NOT"; RFC 6750 §3.1), and when it is a live token of this server it is revoked, since the URL
   is now in access logs (:func:`mcp_gateway.auth.bearer.arevoke_exposed_token`).
3. ``Authorization: Bearer`` is verified (:mod:`mcp_gateway.auth.bearer`); otherwise 401 with a
   ``WWW-Authenticate`` challenge naming the protected-resource metadata.
4. A POST body is read under a size cap (413) and must be exactly one JSON-RPC message: a JSON
   array (a batch, removed in 2025-06-18) gets 400, and so does JSON that is no JSON-RPC 2.0
   message (:func:`_check_message`: not an object, no ``"jsonrpc": "2.0"``, no method and no
   response, an ``id`` that is neither a string nor an integer — MCP "Messages": "Requests MUST
   include a string or integer ID" — or ``params`` that is not an object), with JSON-RPC
   ``-32600`` Invalid Request in plain words, instead of the SDK's validation dump.
5. ``MCP-Protocol-Version``, when sent, must be a version the SDK serves (either era); otherwise
   400 with the JSON-RPC error ``-32022``, the request's id and every supported version ("MUST
   respond with 400 Bad Request"). On ``/mcp`` a request carrying the 2026-07-28 ``_meta``
   envelope is left to the SDK, which gives this answer listing that era's versions (the ones
   ``server/discover`` names); any other request there routed to that era and got an error
   about the missing envelope instead, so the guard answers it.
6. Streamable HTTP only: a ``tools/call`` beyond the caller's permissions gets 403
   ``insufficient_scope`` naming the scope to ask for (step-up). The guard does not decide this
   itself: the server's permission middleware decides (and audits) every ``tools/call`` on every
   transport, and :class:`StepUpChallenge` turns its refusal into the 403. SSE answers on an
   already-open stream, so there the middleware's ``isError`` result refuses.

An admitted request carries in its ASGI scope the verified :class:`Caller`
(``CALLER_SCOPE_KEY``), the transport's name (``TRANSPORT_SCOPE_KEY``, for audit rows) and an
SDK ``AuthenticatedUser`` (``scope["user"]``), which the SDK uses to bind an SSE session to the
principal that opened it; a ``tools/call`` on Streamable HTTP also carries the
:class:`StepUpChallenge` callback (``DECISION_SCOPE_KEY``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION, ErrorData, JSONRPCError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mcprag_site import metrics
from mcprag_site.hosts import LOOPBACK_HOST_NAMES
from mcprag_site.observability import bind, new_request_id
from oauth_app.ratelimit import aretry_after

from ..app_settings import app_settings
from ..auth.bearer import InvalidToken, arevoke_exposed_token, averify_access_token, bearer_token_from_headers
from ..auth.challenge import REQUEST_HOST, challenge_response
from ..auth.identity import CALLER_SCOPE_KEY, TRANSPORT_SCOPE_KEY, Caller
from ..permissions import DECISION_SCOPE_KEY, Refusal

__all__ = ["Admitted", "HttpGuard", "StepUpChallenge", "SUPPORTED_PROTOCOL_VERSIONS", "transport_security_settings"]

#: Every ``MCP-Protocol-Version`` the SDK serves: the handshake era and the 2026-07-28 era.
SUPPORTED_PROTOCOL_VERSIONS: tuple[str, ...] = (*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS)


def transport_security_settings() -> TransportSecuritySettings:
    """Allowed Host and Origin values: the public origin, plus loopback names on a loopback URL."""
    public = urlsplit(app_settings.PUBLIC_URL)
    hosts = [public.netloc, public.hostname]
    origins = [app_settings.PUBLIC_URL]
    if any(h in LOOPBACK_HOST_NAMES for h in settings.ALLOWED_HOSTS):
        for name in LOOPBACK_HOST_NAMES:
            hosts += [name, f"{name}:*"]
            origins += [f"http://{name}", f"http://{name}:*"]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


#: Requests whose answer is one JSON object unless the client asked for progress: nothing else is
#: ever sent on their response stream by mcprag's tools, resources and prompts.
_SINGLE_ANSWER_METHODS = frozenset({
    "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
    "prompts/list", "prompts/get", "completion/complete",
})


@dataclass(frozen=True)
class Admitted:
    """A request that passed every check: the scope to hand on and a ``receive`` replaying the body.

    ``streams`` is False for a POST whose answer is a single JSON-RPC response (see
    :func:`_needs_stream`); the transport may then answer ``application/json`` instead of
    opening an SSE stream (MCP 2025-11-25 "Sending Messages to the Server": the server MUST
    return either). ``send`` is the ``send`` to answer through (a :class:`StepUpChallenge`'s for
    a ``tools/call`` on Streamable HTTP).
    """

    scope: Scope
    receive: Receive
    send: Send
    caller: Caller
    streams: bool = True


class _Refused(Exception):
    def __init__(self, response: Response):
        self.response = response


def _challenge(status: int, *, error: str | None, description: str, scope: str | None = None) -> _Refused:
    status, headers, body = challenge_response(status, error=error, description=description, scope=scope)
    return _Refused(Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers}))


def _jsonrpc_refusal(status: int, code: int, message: str, data=None, *, message_id: str | int | None = None) -> _Refused:
    """An HTTP ``status`` answer carrying a JSON-RPC error, for the request ``message_id`` when
    known (a string or integer: :func:`_check_message` has checked it), else ``null``."""
    error = JSONRPCError(jsonrpc="2.0", id=message_id, error=ErrorData(code=code, message=message, data=data))
    payload = {"id": None, **error.model_dump(mode="json", by_alias=True, exclude_none=True)}  # JSON-RPC 2.0 §5: a null id stays
    return _Refused(Response(json.dumps(payload), status_code=status, media_type="application/json"))


def _principal(caller: Caller) -> AuthenticatedUser:
    """The SDK's view of the caller: (client_id, iss, sub) identify the principal; no token material."""
    subject = str(caller.user_id) if caller.user_id is not None else None
    return AuthenticatedUser(AccessToken(token="", client_id=caller.client_id, scopes=sorted(caller.scopes),
                                         subject=subject, claims={"iss": app_settings.ISSUER}))


def _message(body: bytes):
    """The decoded JSON-RPC message of a POST body, or None (the SDK answers malformed ones)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _has_versioned_envelope(message) -> bool:
    """Whether ``message`` carries the 2026-07-28 per-request envelope naming its protocol version
    (``params._meta["io.modelcontextprotocol/protocolVersion"]``)."""
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and "io.modelcontextprotocol/protocolVersion" in meta


def _needs_stream(message) -> bool:
    """Whether the answer to ``message`` may include more than its response: anything but a plain
    request of :data:`_SINGLE_ANSWER_METHODS`, or such a request asking for progress
    notifications (``params._meta.progressToken``)."""
    if not isinstance(message, dict) or message.get("method") not in _SINGLE_ANSWER_METHODS or "id" not in message:
        return True
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and meta.get("progressToken") is not None


class StepUpChallenge:
    """Streamable HTTP: answer a ``tools/call`` that the permission middleware refuses with HTTP
    403 ``insufficient_scope`` and a ``WWW-Authenticate`` challenge naming the scopes to ask for
    (MCP authorization "Scope Challenge Handling"; RFC 6750 §3.1), instead of the SDK's
    ``isError`` result.

    The middleware awaits :meth:`decided` (under ``DECISION_SCOPE_KEY`` in the request's scope)
    before the tool runs; the SDK answers through :meth:`send`. Its response start is held until
    the call is allowed or its first body comes: an SSE answer may start before the decision. A
    refused call is answered with the 403 at the SDK's first body, i.e. once the middleware has
    returned (after its audit row is committed under ``MCPRAG_AUDIT_BEFORE_ANSWER=true``), and the
    SDK's own answer is dropped.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._held = None  # the SDK's http.response.start, until it may go
        self._decided = False
        self._refusal: Refusal | None = None
        self._answered = False
        self._lock = asyncio.Lock()

    async def decided(self, refusal: Refusal | None) -> None:
        """The middleware's decision on the call: a refusal, or None (allowed)."""
        async with self._lock:
            self._decided, self._refusal = True, refusal
            if refusal is None:
                await self._release()

    async def send(self, message) -> None:
        """The ASGI ``send`` handed to the SDK."""
        async with self._lock:
            if self._answered:
                return
            if message["type"] == "http.response.start" and (self._refusal is not None or not self._decided):
                self._held = message
                return
            if self._refusal is not None:
                await self._challenge(self._refusal)
                return
            await self._release()
            await self._send(message)

    async def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._send(held)

    async def _challenge(self, refusal: Refusal) -> None:
        self._answered, self._held = True, None
        status, headers, body = challenge_response(
            403, error="insufficient_scope",
            description=" ".join(filter(None, [f"Calling {refusal.tool} needs the {refusal.needed} scope.", refusal.explanation])),
            scope=refusal.scope)
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})


def _is_tool_call(message) -> bool:
    return isinstance(message, dict) and message.get("method") == "tools/call"


class HttpGuard:
    """The checks above, for one transport.

    :param transport: its name in audit rows and in the ASGI scope ("streamable_http", "sse").
    :param step_up: answer a ``tools/call`` beyond the caller's permissions with HTTP 403 (only
        where the reply to a POST is the JSON-RPC response, i.e. Streamable HTTP), through a
        :class:`StepUpChallenge`.
    """

    def __init__(self, *, transport: str, step_up: bool) -> None:
        self.transport = transport
        self.step_up = step_up
        self._security = TransportSecurityMiddleware(transport_security_settings())

    async def admit(self, scope: Scope, receive: Receive, send) -> Admitted | None:
        """Run every check; answer a refusal and return None, or return the admitted request."""
        bind(request_id=new_request_id(_header(scope, b"x-request-id")), user_id="-", client_id="-")
        REQUEST_HOST.set(_header(scope, b"host"))
        try:
            await self._check_host_and_origin(scope)
            await self._check_no_query_token(scope)
            caller, wait = await self._authenticate(scope)
            bind(user_id=caller.user_id if caller.user_id is not None else "-", client_id=caller.client_id)
            self._check_rate(wait)
            if scope["method"] == "POST":
                await self._check_host_and_origin(scope, content_type=True)  # as the SDK would, in JSON
            body = await self._read_body(scope, receive) if scope["method"] == "POST" else b""
            self._check_single_message(body)
            message = _message(body)
            _check_message(body, message)
            if not (self.transport == "streamable_http" and _has_versioned_envelope(message)):
                # an enveloped (2026-07-28) request on /mcp: the SDK answers it, listing that era's versions
                self._check_protocol_version(scope, message)
        except _Refused as refused:
            await refused.response(scope, receive, send)
            return None
        scope = {**scope, CALLER_SCOPE_KEY: caller, TRANSPORT_SCOPE_KEY: self.transport, "user": _principal(caller)}
        if self.step_up and _is_tool_call(message):
            step_up = StepUpChallenge(send)
            scope[DECISION_SCOPE_KEY], send = step_up.decided, step_up.send
        return Admitted(scope=scope, receive=_replay(body, receive) if scope["method"] == "POST" else receive, send=send,
                        caller=caller, streams=scope["method"] != "POST" or _needs_stream(message))

    async def _check_host_and_origin(self, scope: Scope, *, content_type: bool = False) -> None:
        """The SDK's DNS-rebinding checks (and, with ``content_type``, its POST Content-Type check),
        answered as JSON-RPC errors with the SDK's status: 421 for a foreign Host, 403 for a
        foreign Origin (MCP "Transports": "MUST respond with HTTP 403 Forbidden"), 400 for a POST
        body that is not declared JSON. The SDK's own answer is a plain-text line."""
        rejection = await self._security.validate_request(Request(scope), is_post=content_type)
        if rejection is None:
            return
        status = rejection.status_code
        message = {
            421: f"This server does not answer to the Host {(_header(scope, b'host') or '')[:200]!r}.",
            403: f"Requests from the Origin {(_header(scope, b'origin') or '')[:200]!r} are refused (DNS-rebinding protection).",
        }.get(status, "Send the JSON-RPC message with Content-Type: application/json.")
        raise _jsonrpc_refusal(status, INVALID_REQUEST, message)

    async def _check_no_query_token(self, scope: Scope) -> None:
        exposed = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("access_token")
        if not exposed:
            return
        revoked = False
        for token in exposed[:4]:
            revoked = await arevoke_exposed_token(token) or revoked
        description = "Access tokens are not accepted in the query string; send them in the Authorization header."
        if revoked:
            description += " This token has been revoked because the URL may have been logged; get a new one."
        raise _challenge(400, error="invalid_request", description=description)

    async def _authenticate(self, scope: Scope) -> tuple[Caller, int | None]:
        token = bearer_token_from_headers(scope.get("headers", []))
        if token is None:
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            hint = " ".join(app_settings.DEFAULT_SCOPES)
            metrics.bearer_refused("missing")
            raise _challenge(401, error=None, description="Authentication required.", scope=hint)
        try:
            caller = await averify_access_token(token)
        except InvalidToken as exc:
            metrics.bearer_refused(exc.reason)
            raise _challenge(401, error="invalid_token", description=str(exc)) from None
        return caller, await aretry_after("mcp_client", caller.client_id)

    def _check_rate(self, wait: int | None) -> None:
        """Per-client request budget (``MCPRAG_RATE_LIMITS["mcp_client"]``): 429 with Retry-After."""
        if wait:
            raise _Refused(Response(json.dumps({"error": "too_many_requests",
                                                "error_description": "Too many requests from this client; slow down."}),
                                    status_code=429, media_type="application/json", headers={"Retry-After": str(wait)}))

    def _check_protocol_version(self, scope: Scope, message) -> None:
        wanted = MCP_PROTOCOL_VERSION_HEADER.lower().encode("latin-1")
        version = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == wanted), None)
        if version is not None and version not in SUPPORTED_PROTOCOL_VERSIONS:
            # MCP 2025-11-25 §Protocol Version Header: invalid or unsupported → MUST 400.
            message_id = message.get("id") if isinstance(message, dict) else None
            raise _jsonrpc_refusal(400, UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                                   {"supported": list(SUPPORTED_PROTOCOL_VERSIONS), "requested": version},
                                   message_id=message_id)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = app_settings.MAX_REQUEST_BODY_BYTES
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large()
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_single_message(self, body: bytes) -> None:
        if body.lstrip()[:1] == b"[":
            # MCP 2025-06-18 removed JSON-RPC batching: one message per POST.
            raise _jsonrpc_refusal(400, INVALID_REQUEST, "Send one JSON-RPC message per request; batches are not supported.")


def _check_message(body: bytes, message) -> None:
    """A POST body that is JSON but no JSON-RPC 2.0 message gets ``-32600`` Invalid Request in
    plain words (JSON-RPC 2.0 §4, §5; MCP "Messages"), not the SDK's validation dump: a value
    that is not an object, ``jsonrpc`` other than "2.0", neither a ``method`` (request or
    notification) nor an ``id`` with a ``result`` or ``error`` (response), an ``id`` that is
    neither a string nor an integer, ``params`` that is not an object. A ``tools/call`` whose
    ``arguments`` is not an object gets ``-32602`` Invalid params. Not JSON at all is left to the
    SDK (``-32700`` Parse error)."""
    if message is None and body.strip() != b"null":
        return
    if not isinstance(message, dict):
        raise _jsonrpc_refusal(400, INVALID_REQUEST, "A JSON-RPC message must be a JSON object.")
    if "id" in message:
        ident = message["id"]
        if isinstance(ident, bool) or not isinstance(ident, (str, int)):
            raise _jsonrpc_refusal(400, INVALID_REQUEST, "The JSON-RPC id must be a string or an integer.")
    ident = message.get("id")
    if message.get("jsonrpc") != "2.0":
        raise _jsonrpc_refusal(400, INVALID_REQUEST, 'A JSON-RPC message must have "jsonrpc": "2.0".', message_id=ident)
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            raise _jsonrpc_refusal(400, INVALID_REQUEST, "The JSON-RPC method must be a non-empty string.", message_id=ident)
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            raise _jsonrpc_refusal(400, INVALID_REQUEST, "The JSON-RPC params must be a JSON object.", message_id=ident)
        if message["method"] == "tools/call" and isinstance(params, dict) and "arguments" in params \
                and params["arguments"] is not None and not isinstance(params["arguments"], dict):
            raise _jsonrpc_refusal(400, INVALID_PARAMS, "The tool's arguments must be a JSON object of argument names and values.",
                                   message_id=ident)
    elif "id" not in message or not ("result" in message or "error" in message):
        raise _jsonrpc_refusal(400, INVALID_REQUEST, "A JSON-RPC message needs a method (a request or a notification), or an id "
                                                     "with a result or an error (a response).", message_id=ident)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _too_large() -> _Refused:
    body = json.dumps({"error": "request_too_large", "error_description": "The request body is too large."})
    return _Refused(Response(body, status_code=413, media_type="application/json"))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then defers to the real one."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
