"""The console's one script, served by Django so pages need no inline script and no static-file
server (Content-Security-Policy ``script-src 'self'``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views.generic import View

from ..permissions import OperatorRequiredMixin


class ConsoleScriptView(OperatorRequiredMixin, View):
    http_method_names = ["get"]
    cacheable = True  # the same script for every operator, no data: a browser may keep it an hour

    def get(self, request):
        response = HttpResponse(render_to_string("console/console.js"), content_type="text/javascript; charset=utf-8")
        patch_cache_control(response, private=True, max_age=3600)
        return response
