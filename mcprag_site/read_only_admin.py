"""``ReadOnlyAdmin``: a Django admin page that lists and shows rows but never adds, changes or
deletes them, for the records the server writes itself (audit rows, index contents, operator
actions). Every app's ``admin.py`` uses this one class."""

from __future__ import annotations

from django.contrib import admin

__all__ = ["ReadOnlyAdmin"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: rows come from the server's own flows, never from hand edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
