"""Console agents (OAuth clients): list, detail, disable/enable, revoke every token and consent."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import DetailView, View
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.settings import oauth2_settings

from mcp_gateway.models import ToolCall
from oauth_app.models import AuthEvent, Consent

from .. import services
from ..connections import client_activity
from ..filters import AgentFilterForm
from ..forms import AgentActionForm
from ..models import OperatorAction
from ..permissions import OperatorRequiredMixin
from .base import ConsoleListView

RECENT = 20


def _live_tokens():
    """Unexpired access tokens that can call tools (not RFC 7592 registration-management tokens)."""
    tokens = (get_access_token_model().objects.filter(application=OuterRef("pk"), expires__gt=timezone.now())
              .exclude(scope__contains=oauth2_settings.DCR_REGISTRATION_SCOPE)
              .order_by().values("application").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(tokens), 0)


class AgentListView(ConsoleListView):
    template_name = "console/application_list.html"
    filter_form_class = AgentFilterForm
    section = "agents"

    def base_queryset(self):
        return (get_application_model().objects.order_by("-created")
                .annotate(people=Count("consents__user", distinct=True, filter=Q(consents__revoked_at__isnull=True)),
                          live_tokens=_live_tokens()))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["activity"] = client_activity(app.client_id for app in context["object_list"])
        return context


class AgentDetailView(OperatorRequiredMixin, DetailView):
    template_name = "console/application_detail.html"
    context_object_name = "agent"

    def get_queryset(self):
        return get_application_model().objects.annotate(live_tokens=_live_tokens())

    def get_context_data(self, **kwargs):
        agent = self.object
        return super().get_context_data(
            section="agents", activity=client_activity([agent.client_id])[agent.client_id], form=AgentActionForm(),
            consents=Consent.objects.filter(application=agent).select_related("user")[:50],
            tool_calls=ToolCall.objects.filter(client_id=agent.client_id)[:RECENT],
            auth_events=AuthEvent.objects.filter(client_id=agent.client_id).select_related("user")[:RECENT],
            actions=OperatorAction.objects.filter(client_id=agent.client_id)[:RECENT],
            **kwargs,
        )


class _AgentActionView(OperatorRequiredMixin, View):
    http_method_names = ["post"]
    #: A console.services function ``(operator, application, reason) -> OperatorAction | None``.
    action = None
    done = ""

    def post(self, request, pk):
        agent = get_object_or_404(get_application_model(), pk=pk)
        form = AgentActionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        changed = self.action(request.user, agent, reason)
        messages.success(request, f"{agent.name or agent.client_id} {self.done}." if changed else "Nothing to change.")
        return redirect("console:agent-detail", pk=pk)


class AgentDisableView(_AgentActionView):
    action = staticmethod(services.disable_agent)
    done = "is disabled: it gets no new tokens and its tokens stop working"


class AgentEnableView(_AgentActionView):
    action = staticmethod(services.enable_agent)
    done = "is enabled again"


class AgentRevokeView(OperatorRequiredMixin, DetailView):
    """GET: what will be revoked (confirmation); POST: revoke it all for everyone."""

    template_name = "console/application_confirm_revoke.html"
    context_object_name = "agent"

    def get_queryset(self):
        return get_application_model().objects.annotate(live_tokens=_live_tokens())

    def get_context_data(self, **kwargs):
        consents = Consent.objects.filter(application=self.object, revoked_at__isnull=True).select_related("user")
        return super().get_context_data(section="agents", consents=consents, form=AgentActionForm(), **kwargs)

    def post(self, request, pk):
        agent = get_object_or_404(get_application_model(), pk=pk)
        form = AgentActionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        report = services.revoke_agent_for_everyone(request.user, agent, reason, request=request)
        messages.success(request, f"Revoked {report.access_tokens} access token(s) of {report.people} person(s); "
                                  "the agent's next call gets 401.")
        return redirect("console:agent-detail", pk=pk)
