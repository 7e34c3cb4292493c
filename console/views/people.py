"""Console people: list with search and filters, one person's agents and activity, tier changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import redirect
from django.views.generic import DetailView

from mcp_gateway.models import ToolCall
from oauth_app.flows import mfa
from oauth_app.models import AuthEvent, Consent
from oauth_app.scopes import tier_of
from oauth_app.tiers import scopes_for_tier

from .. import services
from ..connections import connected_agents
from ..filters import PersonFilterForm
from ..forms import TierChangeForm
from ..models import OperatorAction
from ..permissions import OperatorRequiredMixin
from .base import ConsoleListView

RECENT = 20


def mfa_status(user) -> str:
    """"enrolled" or "not enrolled": the person's TOTP enrolment (``oauth_app.flows.mfa``)."""
    return "enrolled" if mfa.is_enrolled(user) else "not enrolled"


class PersonListView(ConsoleListView):
    template_name = "console/person_list.html"
    filter_form_class = PersonFilterForm
    section = "people"

    def base_queryset(self):
        last_call = ToolCall.objects.filter(user_id=OuterRef("pk")).order_by("-at").values("at")[:1]
        return (get_user_model().objects.select_related("mcprag_profile").order_by("username")
                .annotate(agents=Count("mcprag_consents__application", distinct=True,
                                       filter=Q(mcprag_consents__revoked_at__isnull=True)),
                          last_call=Subquery(last_call)))


class PersonDetailView(OperatorRequiredMixin, DetailView):
    template_name = "console/person_detail.html"
    context_object_name = "person"

    def get_queryset(self):
        return get_user_model().objects.select_related("mcprag_profile")

    def get_context_data(self, tier_form=None, **kwargs):
        person = self.object
        return super().get_context_data(
            section="people", tier=tier_of(person), mfa_status=mfa_status(person),
            tier_scopes=scopes_for_tier(tier_of(person)),
            tier_form=tier_form or TierChangeForm(current_tier=tier_of(person)),
            agents=connected_agents(person),
            consents=Consent.objects.filter(user=person).select_related("application")[:50],
            tool_calls=ToolCall.objects.filter(user=person)[:RECENT],
            auth_events=AuthEvent.objects.filter(user=person)[:RECENT],
            actions=OperatorAction.objects.filter(person=person)[:RECENT],
            **kwargs,
        )


class PersonTierView(PersonDetailView):
    """POST only: change the tier with a required reason, through ``console.services.change_tier``."""

    http_method_names = ["post"]

    def post(self, request, pk):
        person = self.object = self.get_object()
        form = TierChangeForm(request.POST, current_tier=tier_of(person))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(tier_form=form), status=400)
        services.change_tier(request.user, person, form.cleaned_data["tier"], form.cleaned_data["reason"])
        messages.success(request, f"{person.get_username()} is now {form.cleaned_data['tier']}; "
                                  "it applies to their next tool call.")
        return redirect("console:person-detail", pk=pk)
