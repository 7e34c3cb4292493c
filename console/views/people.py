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
from oauth_app.tiers import scopes_for_person

from .. import services
from ..connections import connected_agents
from ..filters import PersonFilterForm
from ..forms import PERSON_ACTIONS, PersonActionForm, TierChangeForm
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

    def get_context_data(self, tier_form=None, action_form=None, **kwargs):
        person = self.object
        return super().get_context_data(
            section="people", tier=tier_of(person), mfa_status=mfa_status(person),
            tier_scopes=scopes_for_person(tier_of(person)),
            tier_form=tier_form or TierChangeForm(current_tier=tier_of(person)),
            action_form=action_form or PersonActionForm(),
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


class PersonActionView(PersonDetailView):
    """POST only: sign out everywhere, revoke all tokens, reset two-factor, suspend or reinstate,
    each through its ``console.services`` function (which records the ``OperatorAction``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        person = self.object = self.get_object()
        form = PersonActionForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(action_form=form), status=400)
        action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
        label, function, _ = PERSON_ACTIONS[action]
        kwargs = {"request": request} if action == "revoke-tokens" else {}
        try:
            done = getattr(services, function)(request.user, person, reason, **kwargs)
        except ValueError as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(action_form=form), status=400)
        name = person.get_username()
        if done is None:
            messages.info(request, f"Nothing to do: {name} is already {'suspended' if action == 'suspend' else 'active'}.")
        else:
            detail = done.detail
            messages.success(request, {
                "sign-out": f"{name} is signed out of {detail.get('sessions', 0)} session(s).",
                "revoke-tokens": f"Revoked {detail.get('access_tokens', 0)} token(s) of {detail.get('agents', 0)} agent(s) of {name}.",
                "reset-2fa": f"{name}'s two-factor authentication is reset; they set it up again at their next sign-in that needs it.",
                "suspend": f"{name} is suspended: signed out, and their agents' calls are refused.",
                "reinstate": f"{name} is active again.",
            }[action])
        return redirect("console:person-detail", pk=pk)
