"""What every endpoint a client *program* calls has in common — as opposed to the pages a person's
browser shows (sign-in, consent, console).

Client endpoints: token (RFC 6749 §3.2), revocation (RFC 7009), introspection (RFC 7662),
registration (RFC 7591) and client configuration (RFC 7592), and the metadata documents
(RFC 8414, RFC 9728, the JWKS). On every one of them, views subclass :class:`ClientEndpoint`:

* every error is a JSON object ``{"error": "…", "error_description": "…"}`` with
  ``Cache-Control: no-store`` (RFC 6749 §5.2, §5.1) — :func:`oauth_error`; also for a wrong HTTP
  method: ``405 invalid_request`` with ``Allow`` (RFC 9110 §15.5.6), not Django's empty HTML page;
* where clients authenticate (token, revocation, introspection), a 401 challenges with
  ``WWW-Authenticate: Basic`` (:attr:`ClientEndpoint.authenticates_clients`);
* :attr:`ClientEndpoint.cross_origin` says whether a public browser client (a single-page app
  such as the MCP Inspector's web UI) may call it from another origin;
  :class:`CrossOriginMiddleware` answers its CORS preflight and marks its answers (Fetch
  standard, "CORS protocol"): ``Access-Control-Allow-Origin: *`` and never
  ``Access-Control-Allow-Credentials`` — these endpoints take no cookies, so a page of another
  origin gains nothing that a program could not do directly. The introspection endpoint is not
  cross-origin (only service clients with a secret call it), and no HTML page ever is.

``/mcp`` is not a Django view: the MCP transport checks ``Origin`` itself (403 for a foreign one,
DNS-rebinding protection, :mod:`mcp_gateway.transports.http_guard`) and sends no CORS headers, so
a browser-based MCP client reaches it through its own same-origin proxy, as the Inspector does.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

__all__ = ["ClientEndpoint", "CrossOriginMiddleware", "oauth_error", "view_class_of"]

#: Request headers a browser client may send cross-origin (besides the CORS-safelisted ones):
#: client authentication or a registration access token, a JSON body, the MCP protocol version
#: (MCP clients send it on discovery requests too).
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, MCP-Protocol-Version"
#: Response headers a browser client may read: the challenge of a 401, the wait of a 429.
CORS_EXPOSED_HEADERS = "WWW-Authenticate, Retry-After"
#: The challenge of a 401 at an endpoint where clients authenticate (RFC 6749 §2.3.1, RFC 7617).
CLIENT_CHALLENGE = 'Basic realm="mcprag"'
#: How long a browser may reuse a preflight answer, in seconds (browsers cap it lower: 2 h in Chromium).
CORS_MAX_AGE_SECONDS = 86400


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    """An RFC 6749 §5.2-shaped error answer, never cached (§5.1).

    >>> oauth_error("invalid_request", "Use POST.", 405).content
    b'{"error": "invalid_request", "error_description": "Use POST."}'
    """
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


class ClientEndpoint:
    """Mixin for the views of client endpoints (put it first among the bases)."""

    #: Whether a browser client of another origin may call this endpoint (CORS, no credentials).
    cross_origin: bool = True
    #: Whether clients authenticate here with their credentials (token, revocation, introspection;
    #: RFC 6749 §2.3). A 401 then challenges with ``Basic``, the scheme they use here (RFC 6749
    #: §5.2: "matching the authentication scheme used by the client"), never with the ``Bearer``
    #: challenge oauthlib puts on its ``invalid_client`` answers.
    authenticates_clients: bool = False

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if self.authenticates_clients and response.status_code == 401:
            response["WWW-Authenticate"] = CLIENT_CHALLENGE
        return response

    @classmethod
    def cross_origin_methods(cls) -> list[str]:
        """The methods a preflight allows: those the view defines, e.g. ``["POST", "OPTIONS"]``."""
        return [m.upper() for m in cls.http_method_names if hasattr(cls, m)]

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = self._allowed_methods()
        methods = [m for m in allowed if m not in ("HEAD", "OPTIONS")]
        response = oauth_error("invalid_request", f"Use {' or '.join(methods)} at this endpoint.", status=405)
        response["Allow"] = ", ".join(allowed)
        return response


def view_class_of(view_func) -> type | None:
    """The class-based view behind a resolved view function, if any."""
    return getattr(view_func, "view_class", None)


def _is_cross_origin(view_func) -> bool:
    view_class = view_class_of(view_func)
    return view_class is not None and issubclass(view_class, ClientEndpoint) and view_class.cross_origin


class CrossOriginMiddleware:
    """CORS for the cross-origin client endpoints: preflights answered before the view (and before
    any CSRF or sign-in check), every answer of such an endpoint marked readable by any origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and _is_cross_origin(match.func):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        is_preflight = request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
        if not (is_preflight and _is_cross_origin(view_func)):
            return None
        response = HttpResponse(status=204)
        del response["Content-Type"]  # no body
        response["Access-Control-Allow-Methods"] = ", ".join(view_class_of(view_func).cross_origin_methods())
        response["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
        return response
