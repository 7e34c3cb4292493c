"""Who may use the operator console: one mixin, so the identity issue can add "MFA verified".

Anonymous people are sent to the sign-in page (``/login/?next=…``); signed-in people who are not
operators get 403. Extend :meth:`OperatorRequiredMixin.has_operator_access` (or
:func:`is_operator`) to add requirements; every console view inherits the check.
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied

__all__ = ["OperatorRequiredMixin", "is_operator"]


def is_operator(user) -> bool:
    """Staff accounts that are active. (MFA-verified sessions will be required here too.)"""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


class OperatorRequiredMixin(AccessMixin):
    """Deny by default: every console view starts with this check."""

    def has_operator_access(self, request) -> bool:
        return is_operator(request.user)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()  # redirect to LOGIN_URL with ?next=
        if not self.has_operator_access(request):
            raise PermissionDenied("The console is for operators.")
        return super().dispatch(request, *args, **kwargs)
