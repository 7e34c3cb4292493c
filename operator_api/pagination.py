"""Bounded pages: at most ``MAX_PAGE_SIZE`` rows per answer, ``PAGE_SIZE`` by default.

Lists of people, agents and jobs are numbered pages (``?page=2&page_size=100``); the audit trail,
which grows to millions of rows, is paged by an opaque cursor (``?cursor=…``, DRF's
``CursorPagination``: no ``COUNT(*)``, stable while rows are added)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination

__all__ = ["PAGE_SIZE", "MAX_PAGE_SIZE", "NumberedPages", "AuditCursor"]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class NumberedPages(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class AuditCursor(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-at", "-id")
