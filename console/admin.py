"""Django admin for the console's operator-action log and the overview's rollups (read-only)."""

from __future__ import annotations

from django.contrib import admin

from mcprag_site.read_only_admin import ReadOnlyAdmin

from .models import AgentRollup, OperatorAction, RollupState, ToolCallRollup


@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "operator_username", "person", "client_id", "reason")
    list_filter = ("kind",)
    search_fields = ("operator_username", "person__username", "client_id", "reason")
    date_hierarchy = "at"


@admin.register(ToolCallRollup)
class ToolCallRollupAdmin(ReadOnlyAdmin):
    """The overview's rollups (``manage.py rollup_audit --rebuild`` recomputes them)."""

    list_display = ("hour", "hours", "tool", "outcome", "calls", "duration_ms_min", "duration_ms_max")
    list_filter = ("hours", "outcome")
    search_fields = ("tool",)


@admin.register(AgentRollup)
class AgentRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "hours", "client_id", "username", "calls", "errors", "refused")
    list_filter = ("hours",)
    search_fields = ("client_id", "username")


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ("key", "until")
