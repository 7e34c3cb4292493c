"""Plain Django pages of the gateway: the landing page and the error handlers.

Error handlers answer JSON to API clients and a small HTML page to browsers; neither ever shows a
traceback (the issue's "never a Django debug page").
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from .app_settings import app_settings

_MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You are not allowed to do that."),
    404: ("Not found", "There is nothing at this address."),
    500: ("Server error", "Something went wrong on our side. It has been logged."),
}


def home(request):
    return render(request, "home.html", {"mcp_url": app_settings.MCP_URL})


def _error(request, status: int):
    title, message = _MESSAGES[status]
    if "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse({"error": title.lower().replace(" ", "_"), "error_description": message}, status=status)
    return render(request, "errors/error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400)


def permission_denied(request, exception=None):
    return _error(request, 403)


def page_not_found(request, exception=None):
    return _error(request, 404)


def server_error(request):
    return _error(request, 500)
