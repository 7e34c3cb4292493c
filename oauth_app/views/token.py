"""Token endpoint (RFC 6749 §3.2): DOT's view with per-address and per-client rate limits.

A refused request gets 429 with ``Retry-After`` (RFC 6585 §4) and a JSON error body; nothing is
issued. Token responses keep DOT's ``Cache-Control: no-store`` (RFC 6749 §5.1).
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauth2_provider.views import TokenView as DOTTokenView

from ..audit import client_ip
from ..ratelimit import retry_after, too_many_requests


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(DOTTokenView):
    def post(self, request, *args, **kwargs):
        wait = retry_after("token", f"ip:{client_ip(request) or 'unknown'}")
        client_id = request.POST.get("client_id") or _basic_client_id(request)
        if not wait and client_id:
            wait = retry_after("token_client", f"client:{client_id[:255]}")
        if wait:
            return too_many_requests(wait, "Too many token requests; slow down.")
        return super().post(request, *args, **kwargs)


def _basic_client_id(request) -> str | None:
    import base64
    import binascii
    from urllib.parse import unquote_plus

    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return unquote_plus(base64.b64decode(value, validate=True).decode().partition(":")[0]) or None
    except (binascii.Error, UnicodeDecodeError):
        return None
