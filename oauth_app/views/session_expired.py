"""The page a person sees when a form's CSRF check fails (``CSRF_FAILURE_VIEW``): almost always a
session that expired or was signed out in another tab while the form was open.

Instead of Django's technical "CSRF verification failed" page, it says what happened and links
back to the page the form was on (the ``Referer``, when it is this site), where a fresh form
with a fresh token waits. JSON clients get an RFC 6749-style JSON error instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

__all__ = ["csrf_failure", "same_site_referer"]


def same_site_referer(request) -> str:
    """The path (and query) of the ``Referer`` when it is a page of this site, else ""."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        return ""
    parts = urlsplit(referer)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf_failure(request, reason: str = ""):
    """403 "Your session expired" with a way back (Django calls it with the failure ``reason``,
    which is for logs, never for the page)."""
    if "text/html" not in request.headers.get("Accept", "") and request.headers.get("Accept"):
        return JsonResponse({"error": "session_expired",
                             "error_description": "The form's session expired. Reload the page and try again."}, status=403)
    back = same_site_referer(request) or (request.path if request.method == "GET" else "/")
    signed_in = request.user.is_authenticated if hasattr(request, "user") else False
    return render(request, "errors/session_expired.html", {"back": back, "signed_in": signed_in}, status=403)
