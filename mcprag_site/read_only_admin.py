"""``ReadOnlyAdmin``: a Django admin page that lists and shows rows but never adds, changes or
deletes them, for the records the server writes itself (audit rows, index contents, operator
actions). Every app's ``admin.py`` uses this one class."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

__all__ = ["ReadOnlyAdmin", "DateHierarchyChangeList"]


class DateHierarchyChangeList(ChangeList):
    """Django's change list, with a date-hierarchy period that has no end before year 10000
    (``?at__year=9999``, ``…&at__month=12``, ``…&at__day=31``) refused as Django refuses other
    invalid lookups: ``IncorrectLookupParameters``, which the admin answers with a redirect to
    ``?e=1``. Django 5.2 computes the period's end outside its own ``try`` (ValueError or
    OverflowError: a 500); fixed upstream by Django ticket #37357, drop this once that is released."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: rows come from the server's own flows, never from hand edits. The audit rows'
    pages browse by date (``date_hierarchy``), through :class:`DateHierarchyChangeList`."""

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
