"""The Django admin (``/admin/``) behind the operator pages' own gate.

Django's admin would serve its own password form at ``/admin/login/`` — without the sign-in
page's rate limits and without its TOTP step — and let any staff session in. Here

* ``/admin/login/`` serves no form: it sends the browser to ``/login/?next=…`` (the project's
  sign-in, rate limited, with TOTP for enrolled people), or to the TOTP step for an operator
  whose session lacks it; a POST of a password there signs nobody in;
* every admin page (and every change it POSTs) requires what the console requires,
  :func:`console.permissions.has_operator_access`: an active staff account and, with
  ``MCPRAG_CONSOLE_REQUIRE_MFA`` on, a TOTP-verified session.

Installed as ``console.admin_site.OperatorAdminConfig`` in place of ``django.contrib.admin``, so
``admin.site`` is an :class:`OperatorAdminSite` and every ``admin.register`` lands on it.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

__all__ = ["OperatorAdminSite", "OperatorAdminConfig"]


class OperatorAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        """Django asks this before every admin view: the console's check, not only ``is_staff``."""
        from .permissions import has_operator_access  # not at import: this module loads with INSTALLED_APPS

        return has_operator_access(request)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """No password form here: hand over to the project's sign-in flow, then back to ``next``."""
        from oauth_app.flows.login import safe_next

        from .permissions import operator_gate

        index = reverse("admin:index", current_app=self.name)
        candidate = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME)
        next_url = safe_next(request, candidate, default=index)
        return operator_gate(request, next_url) or redirect(next_url)


class OperatorAdminConfig(AdminConfig):
    default_site = "console.admin_site.OperatorAdminSite"
