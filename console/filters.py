"""One filter form per console list. Each validates the query string and narrows a queryset.

    form = ToolCallFilterForm(request.GET)
    calls = form.filter(ToolCall.objects.all())      # invalid fields are ignored, not fatal
"""

from __future__ import annotations

from django import forms
from django.db.models import Q

from codeindex.choices import JobStatus
from mcp_gateway.models import ToolCall
from oauth_app.models import AuthEvent
from oauth_app.tiers import Tier

from . import rollups
from .agent_labels import client_ids_named
from .forms import DayField
from .metrics import day_bounds
from .models import OperatorAction

__all__ = ["PersonFilterForm", "AgentFilterForm", "ToolCallFilterForm", "AuthEventFilterForm", "OperatorActionFilterForm",
           "IndexJobFilterForm"]

_ANY = [("", "Any")]


class _FilterForm(forms.Form):
    """Base: ``filter(queryset)`` applies each valid, non-empty field's ``filter_<name>`` method."""

    def filter(self, queryset):
        if not self.is_bound:
            return queryset
        self.is_valid()
        for name, value in self.cleaned_data.items():
            if value not in (None, "", [], ()):
                queryset = getattr(self, f"filter_{name}")(queryset, value)
        return queryset

    @property
    def active(self) -> bool:
        return self.is_bound and any(v not in (None, "") for v in getattr(self, "cleaned_data", {}).values())


class _TimeRangeFilter(_FilterForm):
    since = DayField(required=False, label="From")
    until = DayField(required=False, label="To")

    def filter_since(self, queryset, value):
        return queryset.filter(at__gte=day_bounds(value, value)[0])

    def filter_until(self, queryset, value):
        return queryset.filter(at__lt=day_bounds(value, value)[1])


class PersonFilterForm(_FilterForm):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "name or email"}))
    tier = forms.ChoiceField(required=False, choices=_ANY + [(t.value, t.label) for t in Tier if t != Tier.SERVICE])
    role = forms.ChoiceField(required=False, choices=_ANY + [("staff", "Operators"), ("people", "Not operators")])
    status = forms.ChoiceField(required=False, choices=_ANY + [("active", "Active"), ("inactive", "Deactivated")])

    def filter_q(self, queryset, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value)
                               | Q(first_name__icontains=value) | Q(last_name__icontains=value))

    def filter_tier(self, queryset, value):
        if value == Tier.PUBLIC:  # no profile yet means public (oauth_app.scopes.tier_of)
            return queryset.filter(Q(mcprag_profile__tier=value) | Q(mcprag_profile__isnull=True))
        return queryset.filter(mcprag_profile__tier=value)

    def filter_role(self, queryset, value):
        return queryset.filter(is_staff=(value == "staff"))

    def filter_status(self, queryset, value):
        return queryset.filter(is_active=(value == "active"))


class AgentFilterForm(_FilterForm):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"placeholder": "name or client id"}))
    source = forms.ChoiceField(required=False, choices=_ANY + [
        ("dcr", "Dynamic registration"), ("cimd", "Metadata document"), ("service", "Service client"), ("manual", "Manual")])
    status = forms.ChoiceField(required=False, choices=_ANY + [("enabled", "Enabled"), ("disabled", "Disabled")])

    def filter_q(self, queryset, value):
        return queryset.filter(Q(name__icontains=value) | Q(client_id__icontains=value))

    def filter_source(self, queryset, value):
        service = Q(authorization_grant_type="client-credentials")
        if value == "service":
            return queryset.filter(service)
        return queryset.filter(registration_source=value).exclude(service)

    def filter_status(self, queryset, value):
        return queryset.filter(disabled_at__isnull=(value == "enabled"))


class ToolCallFilterForm(_TimeRangeFilter):
    person = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "username"}))
    client = forms.CharField(required=False, label="Agent", widget=forms.TextInput(attrs={"placeholder": "name or client id"}))
    tool = forms.ChoiceField(required=False)
    outcome = forms.ChoiceField(required=False, choices=_ANY + list(ToolCall.Outcome.choices))

    field_order = ["person", "client", "tool", "outcome", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tool"].choices = _ANY + [(t, t) for t in self.tool_choices()]

    @staticmethod
    def tool_choices() -> list[str]:
        """The tools in the audit trail, from the hourly rollups (never a scan of the raw rows)."""
        return rollups.known_tools()

    def filter_person(self, queryset, value):
        return queryset.filter(Q(username__iexact=value) | Q(user__username__iexact=value) | Q(user__email__iexact=value))

    def filter_client(self, queryset, value):
        return queryset.filter(client_ids_named(value))

    def filter_tool(self, queryset, value):
        return queryset.filter(tool=value)

    def filter_outcome(self, queryset, value):
        return queryset.filter(outcome=value)


class AuthEventFilterForm(_TimeRangeFilter):
    person = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "username"}))
    client = forms.CharField(required=False, label="Agent", widget=forms.TextInput(attrs={"placeholder": "name or client id"}))
    kind = forms.ChoiceField(required=False, label="Event", choices=_ANY + list(AuthEvent.Kind.choices))
    outcome = forms.ChoiceField(required=False, choices=_ANY + [("ok", "Succeeded"), ("error", "Failed or refused")])

    field_order = ["person", "client", "kind", "outcome", "since", "until"]

    def filter_person(self, queryset, value):
        return queryset.filter(Q(user__username__iexact=value) | Q(user__email__iexact=value))

    def filter_client(self, queryset, value):
        return queryset.filter(client_ids_named(value))

    def filter_kind(self, queryset, value):
        return queryset.filter(kind=value)

    def filter_outcome(self, queryset, value):
        return queryset.filter(error="") if value == "ok" else queryset.exclude(error="")


class OperatorActionFilterForm(_TimeRangeFilter):
    person = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "username"}))
    client = forms.CharField(required=False, label="Agent", widget=forms.TextInput(attrs={"placeholder": "name or client id"}))
    kind = forms.ChoiceField(required=False, label="Action", choices=_ANY + list(OperatorAction.Kind.choices))

    field_order = ["person", "client", "kind", "since", "until"]

    def filter_person(self, queryset, value):
        return queryset.filter(Q(person__username__iexact=value) | Q(operator_username__iexact=value))

    def filter_client(self, queryset, value):
        return queryset.filter(client_ids_named(value))

    def filter_kind(self, queryset, value):
        return queryset.filter(kind=value)


class IndexJobFilterForm(_FilterForm):
    """Index jobs by repository and status. ``filter`` takes the list ``codeindex.services.jobs``
    returns (not a queryset); pass the chosen repository to ``jobs()`` too, so its limit counts
    only that repository's jobs."""

    repository = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=_ANY + list(JobStatus.choices))

    def __init__(self, *args, repositories: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repository"].choices = _ANY + [(name, name) for name in repositories]

    def chosen_repository(self) -> str | None:
        """The valid repository asked for, or None (an unknown name is ignored like any bad field)."""
        if not self.is_bound:
            return None
        self.is_valid()  # cleaned_data keeps the valid fields even when another one is not
        return self.cleaned_data.get("repository") or None

    def filter_repository(self, jobs, value):
        return [job for job in jobs if job.repository == value]

    def filter_status(self, jobs, value):
        return [job for job in jobs if job.status == value]
