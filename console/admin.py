"""Django admin for the console's operator-action log (read-only)."""

from __future__ import annotations

from django.contrib import admin

from .models import OperatorAction


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "operator_username", "person", "client_id", "reason")
    list_filter = ("kind",)
    search_fields = ("operator_username", "person__username", "client_id", "reason")
    date_hierarchy = "at"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
