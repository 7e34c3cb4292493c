"""Audit rows for console tests: insert a ``ToolCall`` as the gateway would, at a chosen time."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mcp_gateway.models import ToolCall

__all__ = ["make_call", "days_ago"]


def make_call(*, tool="search_code", outcome="ok", ms=10.0, at=None, user=None, client_id="agent-1", **extra):
    """Insert one ToolCall row (``at`` is auto_now_add, so it is set after creation)."""
    call = ToolCall.objects.create(tool=tool, outcome=outcome, duration_ms=ms, user=user, client_id=client_id,
                                   username=user.get_username() if user else "svc", **extra)
    if at is not None:
        ToolCall.objects.filter(pk=call.pk).update(at=at)
        call.refresh_from_db()
    return call


def days_ago(n: int):
    return timezone.now() - timedelta(days=n, minutes=1)
