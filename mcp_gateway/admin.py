"""Django admin for the gateway's audit rows (read-only: the permission middleware writes them)."""

from __future__ import annotations

from django.contrib import admin

from mcprag_site.read_only_admin import ReadOnlyAdmin

from .models import ToolCall

__all__ = ["ToolCallAdmin"]


@admin.register(ToolCall)
class ToolCallAdmin(ReadOnlyAdmin):
    list_display = ("at", "tool", "outcome", "username", "client_id", "transport", "duration_ms")
    list_filter = ("outcome", "transport", "tool")
    search_fields = ("username", "client_id", "tool")
    date_hierarchy = "at"
    show_full_result_count = False
