"""Display helpers for console and account templates (no queries, no state)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def agent_source(application) -> str:
    """How a client came to exist: "Dynamic registration", "Metadata document", "Service client"…"""
    if getattr(application, "is_service_client", False):
        return "Service client"
    return {"dcr": "Dynamic registration", "cimd": "Metadata document", "manual": "Manual"}.get(
        getattr(application, "registration_source", ""), getattr(application, "registration_source", "") or "—")


@register.filter
def redirect_hosts(application) -> list[str]:
    """Distinct hosts of the client's redirect URIs, e.g. ``["127.0.0.1:33418", "claude.ai"]``."""
    hosts = []
    for uri in (getattr(application, "redirect_uris", "") or "").split():
        parts = urlsplit(uri)
        host = parts.netloc or f"{parts.scheme}:"
        if host not in hosts:
            hosts.append(host)
    return hosts


@register.filter
def ago(value) -> str:
    """``"just now"``, ``"5 minutes ago"``, ``"2 days, 3 hours ago"``; "never" for None."""
    if value is None:
        return "never"
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def host_of(url: str) -> str:
    return urlsplit(url or "").netloc


@register.filter
def ms(value) -> str:
    """``12.345`` → ``"12.3 ms"``; ``1234`` → ``"1.23 s"``; None → ``"—"``."""
    if value is None:
        return "—"
    value = float(value)
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


@register.filter
def short_id(client_id) -> str:
    """The first characters of a client id (the whole id goes in a ``title``)."""
    from ..agent_labels import short_id as cut

    return cut(client_id or "")


@register.filter
def field_label(form, name) -> str:
    """The label of ``form``'s field ``name`` (for error lists)."""
    field = form.fields.get(name)
    return str(field.label or name.replace("_", " ").capitalize()) if field else name


@register.filter
def num(value) -> str:
    """A count with thousands separators: ``1234567`` → ``"1,234,567"``; None → ``"—"``."""
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"


@register.filter
def percent(value) -> str:
    return f"{100 * float(value or 0):.1f}%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def plain(value) -> str:
    """A metadata value for display: lists joined with ", ", objects as JSON, the rest as text."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


@register.inclusion_tag("console/_agent.html", takes_context=True)
def agent_cell(context, client_id):
    """An agent as name + short id + redirect host + registration date (``console/_agent.html``).

    Uses the view's ``agents_by_id`` (one query for the page) when given, otherwise looks the id
    up once per page render."""
    from ..agent_labels import agents_by_client_id

    known = context.get("agents_by_id") or {}
    if client_id in known:
        agent = known[client_id]
    else:
        cache = context.render_context.setdefault("agents_looked_up", {})
        if client_id and client_id not in cache:
            cache.update(agents_by_client_id([client_id]) or {client_id: None})
        agent = cache.get(client_id)
    return {"agent": agent, "client_id": client_id}
