"""``/account/agents/``: the agents a signed-in person has authorized, and revoking one.

Every lookup is scoped to the requesting person (the query filters by ``request.user``): an
agent the person never connected is a 404, whoever asks. The pages are
one person's data, so they are never stored by a browser or shared cache (``Cache-Control:
no-store``, as the sign-in pages).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView, View

from oauth_app.scopes import tier_of
from oauth_app.services import revoke_agent
from oauth_app.tiers import scopes_for_person

from ..connections import connected_agents, connected_application
from .people import mfa_status

MFA_ENROLMENT_PATH = "/account/mfa/"


def mfa_enrolment_url() -> str | None:
    """The TOTP enrolment page, once the identity issue serves it (by URL name or by path)."""
    for name in ("accounts:mfa", "account:mfa", "mfa"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    try:
        resolve(MFA_ENROLMENT_PATH)
    except Resolver404:
        return None
    return MFA_ENROLMENT_PATH


@method_decorator(never_cache, name="dispatch")
class ConnectedAgentListView(LoginRequiredMixin, TemplateView):
    template_name = "account/agent_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(agents=connected_agents(user), mfa_status=mfa_status(user), mfa_url=mfa_enrolment_url(),
                                        tier_scopes=scopes_for_person(tier_of(user)), **kwargs)


@method_decorator(never_cache, name="dispatch")
class ConnectedAgentRevokeView(LoginRequiredMixin, View):
    """GET: "Revoke <agent>?" confirmation; POST: ``oauth_app.services.revoke_agent``."""

    def _application(self, request, pk):
        application = connected_application(request.user, pk)
        if application is None:
            raise Http404("You have not connected this agent.")
        return application

    def get(self, request, pk):
        application = self._application(request, pk)
        agent = next(a for a in connected_agents(request.user) if a.application.pk == application.pk)
        return render(request, "account/agent_confirm_revoke.html", {"agent": agent})

    def post(self, request, pk):
        application = self._application(request, pk)
        revoke_agent(request.user, application, request=request)
        messages.success(request, f"{application.name or 'The agent'} can no longer use mcprag on your behalf.")
        return redirect("account:agents")
