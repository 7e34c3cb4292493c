"""Sign-in and sign-out pages for local accounts."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from ..forms import SignInForm


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class SignInView(auth_views.LoginView):
    """``/login/``: username or email + password; returns to ``next`` (e.g. the pending authorize)."""

    template_name = "oauth/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = False


class SignOutView(auth_views.LogoutView):
    template_name = "oauth/logged_out.html"
