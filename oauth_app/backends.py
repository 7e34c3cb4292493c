"""DOT's ``OAUTH2_BACKEND_CLASS``: keep every repeated body parameter so oauthlib (and our
validators) can refuse duplicates (RFC 6749 §3.2) instead of silently using the last value; and
give every token-endpoint error RFC 6749 §5.2's JSON content type and ``Cache-Control: no-store``.

oauthlib adds those headers to errors it finds while validating a token request, but DOT answers
an error raised after validation with the exception's own headers only (none): the body was JSON
served as ``text/html``, cacheable. That happens when a code exchange loses a race with another
exchange of the same code (:mod:`oauth_app.code_reuse`).
"""

from __future__ import annotations

from oauth2_provider.oauth2_backends import OAuthLibCore

__all__ = ["MCPRAGOAuthLibCore"]


_ERROR_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


class MCPRAGOAuthLibCore(OAuthLibCore):
    def extract_body(self, request):
        return [(key, value) for key, values in request.POST.lists() for value in values]

    def create_token_response(self, request):
        uri, headers, body, status = super().create_token_response(request)
        if status >= 400:
            headers = {**_ERROR_HEADERS, **(headers or {})}
        return uri, headers, body, status
