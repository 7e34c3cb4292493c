"""Which agents a person has connected, and what each client has been doing.

Used by the person's own "connected agents" page and by the console (person and agent pages), so
both always agree on what "connected" means: an active consent or a live token.

    agents = connected_agents(user)
    agents[0].application.name, agents[0].scopes, agents[0].last_used   # ('Claude', [('code:read', 'Search …')], datetime)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from mcp_gateway.models import ToolCall
from oauth_app.app_settings import app_settings as oauth_settings
from oauth_app.models import AuthEvent, Consent
from oauth_app.scopes import scope_labels

__all__ = ["ConnectedAgent", "ClientActivity", "connected_agents", "connected_application", "client_activity"]


@dataclass
class ConnectedAgent:
    """One agent a person has authorized."""

    application: object
    scopes: list[tuple[str, str]] = field(default_factory=list)
    granted_at: datetime | None = None
    last_used: datetime | None = None
    live_tokens: int = 0
    consent_active: bool = False
    scope_names: set[str] = field(default_factory=set, repr=False)


def _connected_ids(user) -> dict[int, ConnectedAgent]:
    agents: dict[int, ConnectedAgent] = {}
    now = timezone.now()
    for consent in Consent.objects.filter(user=user, revoked_at__isnull=True).select_related("application"):
        agent = agents.setdefault(consent.application_id, ConnectedAgent(consent.application))
        agent.consent_active = True
        agent.granted_at = min(filter(None, [agent.granted_at, consent.granted_at]))
        agent.scope_names |= consent.scope_set()
    for token in get_access_token_model().objects.filter(user=user, expires__gt=now).select_related("application"):
        agent = agents.setdefault(token.application_id, ConnectedAgent(token.application))
        agent.live_tokens += 1
        agent.granted_at = min(filter(None, [agent.granted_at, token.created]))
        if not agent.consent_active:
            agent.scope_names |= set(token.scope.split())
    for refresh in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True).select_related("application"):
        agent = agents.setdefault(refresh.application_id, ConnectedAgent(refresh.application))
        agent.granted_at = min(filter(None, [agent.granted_at, refresh.created]))
    return {pk: agent for pk, agent in agents.items() if pk is not None}


def connected_agents(user) -> list[ConnectedAgent]:
    """The agents ``user`` has authorized (active consent or live token), most recently used first."""
    agents = _connected_ids(user)
    last_used = dict(
        ToolCall.objects.filter(user_id=user.pk, client_id__in=[a.application.client_id for a in agents.values()])
        .values_list("client_id").annotate(last=Max("at")).values_list("client_id", "last")
    )
    order = list(oauth_settings.SCOPES)
    for agent in agents.values():
        scopes = sorted(agent.scope_names, key=lambda s: order.index(s) if s in order else len(order))
        agent.scopes = scope_labels(scopes)
        agent.last_used = last_used.get(agent.application.client_id)
    epoch = timezone.make_aware(datetime(1970, 1, 1))
    return sorted(agents.values(), key=lambda a: (a.last_used or a.granted_at or epoch), reverse=True)


def connected_application(user, pk: int):
    """The application ``pk`` if ``user`` has connected it, else None (scopes every lookup by person)."""
    agent = _connected_ids(user).get(pk)
    return agent.application if agent else None


@dataclass(frozen=True)
class ClientActivity:
    calls: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def client_activity(client_ids) -> dict[str, ClientActivity]:
    """``{client_id: ClientActivity}`` from tool calls and auth events (two aggregate queries)."""
    client_ids = list(client_ids)
    calls = {row["client_id"]: row for row in ToolCall.objects.filter(client_id__in=client_ids)
             .values("client_id").annotate(n=Count("id"), first=Min("at"), last=Max("at"))}
    events = {row["client_id"]: row for row in AuthEvent.objects.filter(client_id__in=client_ids)
              .values("client_id").annotate(first=Min("at"), last=Max("at"))}
    activity = {}
    for client_id in client_ids:
        c, e = calls.get(client_id, {}), events.get(client_id, {})
        firsts = [v for v in (c.get("first"), e.get("first")) if v]
        lasts = [v for v in (c.get("last"), e.get("last")) if v]
        activity[client_id] = ClientActivity(calls=c.get("n", 0), first_seen=min(firsts, default=None),
                                             last_seen=max(lasts, default=None))
    return activity
