"""DOT's ``OAUTH2_BACKEND_CLASS``: keep every repeated body parameter so oauthlib (and our
validators) can refuse duplicates (RFC 6749 §3.2) instead of silently using the last value."""

from __future__ import annotations

from oauth2_provider.oauth2_backends import OAuthLibCore

__all__ = ["MCPRAGOAuthLibCore"]


class MCPRAGOAuthLibCore(OAuthLibCore):
    def extract_body(self, request):
        return [(key, value) for key, values in request.POST.lists() for value in values]
