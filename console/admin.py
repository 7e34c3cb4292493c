"""Django admin for the console's operator-action log (read-only)."""

from __future__ import annotations

from django.contrib import admin

from mcprag_site.read_only_admin import ReadOnlyAdmin

from .models import OperatorAction


@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "operator_username", "person", "client_id", "reason")
    list_filter = ("kind",)
    search_fields = ("operator_username", "person__username", "client_id", "reason")
    date_hierarchy = "at"
