"""Authorization endpoint with mcprag's consent page (RFC 6749 §4.1.1, RFC 8707, RFC 9207).

DOT's :class:`~oauth2_provider.views.AuthorizationView` does the protocol work; this subclass only
chooses the template, adds what the consent page shows (client, redirect host, resource, scopes in
plain words, narrowed to the person's tier) and ignores a client-supplied ``approval_prompt``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from oauth2_provider.views import AuthorizationView

from ..resource_indicators import mcp_resource
from ..scopes import scope_labels, tier_of
from ..tiers import scopes_for_tier


class AuthorizeView(AuthorizationView):
    template_name = "oauth/consent.html"

    def get(self, request, *args, **kwargs):
        if "approval_prompt" in request.GET:
            # A client must not be able to skip the consent page (DOT lets it by default).
            query = request.GET.copy()
            query.pop("approval_prompt")
            request.GET = query
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        allowed = scopes_for_tier(tier_of(self.request.user))
        requested = kwargs.get("scopes") or []
        context["scope_items"] = scope_labels([s for s in requested if s in allowed])
        context["withheld_scopes"] = scope_labels([s for s in requested if s not in allowed])
        context["redirect_host"] = urlsplit(kwargs.get("redirect_uri") or "").netloc
        context["resource_display"] = mcp_resource()
        return context

    def form_valid(self, form):
        # Never grant more than the signed-in person's tier allows (DESIGN §5).
        allowed = scopes_for_tier(tier_of(self.request.user))
        scopes = [s for s in (form.cleaned_data.get("scope") or "").split() if s in allowed]
        form.cleaned_data["scope"] = " ".join(scopes)
        return super().form_valid(form)
