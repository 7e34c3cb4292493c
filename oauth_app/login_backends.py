"""Sign-in backends: local Django accounts (username or email address + password)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

__all__ = ["UsernameOrEmailBackend"]


class UsernameOrEmailBackend(ModelBackend):
    """Django's ModelBackend that also accepts the email address in the username field."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            User = get_user_model()
            match = User._default_manager.filter(email__iexact=username.strip()).order_by("id").first()
            if match is not None:
                username = match.get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
