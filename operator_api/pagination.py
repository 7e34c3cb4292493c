"""Bounded pages: at most ``MAX_PAGE_SIZE`` rows per answer, ``PAGE_SIZE`` by default.

Lists of people, agents and jobs are numbered pages (``?page=2&page_size=100``); the audit trail,
which grows to millions of rows, is paged by an opaque cursor (``?cursor=…``, DRF's
``CursorPagination``: no ``COUNT(*)``, stable while rows are added)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination

__all__ = ["PAGE_SIZE", "MAX_PAGE_SIZE", "NumberedPages", "AuditCursor"]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class NumberedPages(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class AuditCursor(CursorPagination):
    """DRF's cursor, with its position checked: a cursor is caller input, and DRF compares its
    position with the ordering field as given, so one that is not a value of that field (``p=abc``,
    ``p=9999-99-99``, a time that does not exist in UTC) is refused like any other
    invalid cursor (404 "Invalid cursor"), not left to fail in the query."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-at", "-id")

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = queryset.model._meta.get_field(self.get_ordering(request, queryset, view)[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = self._position_field.to_python(cursor.position)
                if isinstance(position, datetime) and timezone.is_aware(position):
                    position.astimezone(UTC)  # databases compare times in UTC (SQLite converts it in Python)
            except (ValidationError, ValueError, OverflowError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
