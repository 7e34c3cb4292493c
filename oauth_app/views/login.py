"""Sign-in pages: local password or Stytch magic link, then the TOTP step, then ``next``.

Views stay thin: validate the form, call one flow step (:mod:`oauth_app.flows`), redirect.
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from .. import audit
from ..app_settings import app_settings
from ..audit import client_ip
from ..flows import login as login_flow
from ..flows import magic_link, mfa, stytch_oauth
from ..forms import EmailForm, SignInForm, TOTPForm
from ..login_backends import MagicLinkRejected, SignInServiceUnavailable
from ..models import AuthEvent
from ..ratelimit import over_limit, retry_after
from ..services import person_for_verified_email


def _too_many(request, wait: int):
    """429 with ``Retry-After`` (RFC 6585 §4)."""
    response = render(request, "oauth/too_many.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _limited(request, account: str | None, *, per_ip: str = "login_ip", per_account: str = "login_account"):
    """429 when this IP or this account has tried too often, else None; every call counts. The
    account is keyed case-folded (and NFKC-normalised, as Django matches email addresses);
    ``retry_after`` keys hold a digest of it, never the text."""
    wait = retry_after(per_ip, client_ip(request) or "unknown")
    if not wait and account:
        wait = retry_after(per_account, unicodedata.normalize("NFKC", account.strip()).casefold())
    return _too_many(request, wait) if wait else None


def _account_key(identifier: str) -> str:
    """One rate-limit key per account, whatever was typed: the username, or the email address in
    any letter case, name the same person (``user:<pk>``); anything else is keyed by itself,
    case-folded, so unknown names are limited alike."""
    from django.contrib.auth import get_user_model

    typed = (identifier or "").strip()[:254]
    users = get_user_model()._default_manager
    match = users.filter(email__iexact=typed) if "@" in typed else users.filter(username=typed)
    pk = match.order_by("id").values_list("pk", flat=True).first()
    return f"user:{pk}" if pk is not None else f"name:{typed.casefold()}"


class _PasswordAttempts:
    """Budgets of one password sign-in attempt: every attempt counts against the address
    (``login_ip``); only **failed** attempts count against the account from this address
    (``login_failures_ip``) and against the account from everywhere (``login_failures``, a larger
    budget). A successful sign-in costs no budget, and guessing from one address cannot lock the
    account for anyone else."""

    def __init__(self, request, identifier: str) -> None:
        self.ip = client_ip(request) or "unknown"
        self.account = _account_key(identifier)

    def wait(self) -> int | None:
        return (retry_after("login_ip", self.ip) or over_limit("login_failures_ip", f"{self.account}|{self.ip}")
                or over_limit("login_failures", self.account))

    def failed(self) -> None:
        retry_after("login_failures_ip", f"{self.account}|{self.ip}")
        retry_after("login_failures", self.account)


def _other_sign_in() -> dict:
    """The other ways to sign in that the sign-in pages offer: single sign-on, Stytch OAuth."""
    return {"sso_name": app_settings.OIDC.get("NAME", "") if app_settings.OIDC_ENABLED else "",
            "oauth_providers": app_settings.STYTCH_OAUTH_PROVIDERS if app_settings.STYTCH_ENABLED else []}


def sign_in_reason(next_url: str) -> str:
    """Why the person is asked to sign in, from where they are going (``next``), in plain words."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(next_url or "")
    path = parts.path
    if path.startswith("/authorize"):
        from ..models import Application

        client_id = (parse_qs(parts.query).get("client_id") or [""])[0]
        name = Application.objects.filter(client_id=client_id).values_list("name", flat=True).first() if client_id else None
        if name:
            return f"“{name[:80]}{'…' if len(name) > 80 else ''}” asked to use mcprag on your behalf. Sign in to continue."
        return "An application asked to use mcprag on your behalf. Sign in to continue."
    if path.startswith(("/console", "/admin")):
        return "Sign in to open the operator console."
    if path.startswith("/account"):
        return "Sign in to manage your account and the agents you have connected."
    return "Sign in to continue."


def _password_page(request, form, next_url: str):
    """The password sign-in page; it links to password reset only where reset is offered."""
    return render(request, "oauth/login.html",
                  {"form": form, "next": next_url, "password_reset": app_settings.PASSWORD_RESET,
                   "reason": sign_in_reason(next_url), **_other_sign_in()})


@method_decorator([never_cache, sensitive_post_parameters("password")], name="dispatch")
class SignInView(View):
    """``/login/``: a password form for local accounts, or an email form for Stytch magic links."""

    def get(self, request):
        next_url = login_flow.safe_next(request, request.GET.get("next"))
        if app_settings.STYTCH_ENABLED:
            return render(request, "oauth/login_email.html", {"form": EmailForm(), "next": next_url,
                                                              "reason": sign_in_reason(next_url), **_other_sign_in()})
        return _password_page(request, SignInForm(request), next_url)

    @method_decorator(sensitive_variables("password"))
    def post(self, request):
        next_url = login_flow.safe_next(request, request.POST.get("next"))
        if app_settings.STYTCH_ENABLED:
            return self._send_magic_link(request, next_url)
        form = SignInForm(request, data=request.POST)
        attempts = _PasswordAttempts(request, request.POST.get("username", ""))
        wait = attempts.wait()
        if wait:
            return _too_many(request, wait)
        if not form.is_valid():
            attempts.failed()
            return _password_page(request, form, next_url)
        return redirect(login_flow.first_factor_passed(request, form.get_user(), "pwd", next_url))

    def _send_magic_link(self, request, next_url):
        form = EmailForm(request.POST)
        if not form.is_valid():
            return render(request, "oauth/login_email.html", {"form": form, "next": next_url,
                                                              "reason": sign_in_reason(next_url), **_other_sign_in()})
        email = form.cleaned_data["email"]
        limited = _limited(request, email)
        if limited:
            return limited
        try:
            magic_link.send(request, email, next_url)
        except SignInServiceUnavailable:
            return render(request, "oauth/sign_in_unavailable.html", {"next": next_url}, status=503)
        # The same page whether or not the address has an account.
        return render(request, "oauth/check_email.html", {"email": email, "next": next_url})


def _stytch_first_factor(request, identity, next_url: str, method: str):
    """A person Stytch verified (magic link: ``email``; OAuth: ``sso``): their account by verified
    email, refused when it is disabled, else on to the second factor or ``next``."""
    user = person_for_verified_email(identity.email, stytch_user_id=identity.stytch_user_id)
    if not user.is_active:
        audit.record(AuthEvent.Kind.SIGN_IN_FAILED, user=user, request=request, error="account_disabled", method=method)
        return render(request, "oauth/magic_link_invalid.html", status=403)
    return redirect(login_flow.first_factor_passed(request, user, method, login_flow.safe_next(request, next_url)))


@method_decorator(never_cache, name="dispatch")
class MagicLinkCallbackView(View):
    """``/login/magic-link/?token=…``: Stytch's link lands here; complete the sign-in."""

    def get(self, request):
        try:
            identity, next_url = magic_link.verify(request, request.GET.get("token", ""))
        except MagicLinkRejected:
            audit.record(AuthEvent.Kind.SIGN_IN_FAILED, request=request, error="magic_link_rejected", method="email")
            return render(request, "oauth/magic_link_invalid.html", status=400)
        except SignInServiceUnavailable:
            return render(request, "oauth/sign_in_unavailable.html", {"next": "/login/"}, status=503)
        return _stytch_first_factor(request, identity, next_url, "email")


@method_decorator(never_cache, name="dispatch")
class StytchOAuthStartView(View):
    """``/login/oauth/<provider>/``: sign in with an OAuth provider through Stytch (only the
    providers in ``MCPRAG_STYTCH_OAUTH``; 404 otherwise)."""

    def get(self, request, provider: str):
        if not app_settings.STYTCH_ENABLED or provider not in {p["slug"] for p in app_settings.STYTCH_OAUTH_PROVIDERS}:
            return render(request, "oauth/magic_link_invalid.html", status=404)
        limited = _limited(request, None)
        if limited:
            return limited
        return redirect(stytch_oauth.start(request, provider, login_flow.safe_next(request, request.GET.get("next"))))


@method_decorator(never_cache, name="dispatch")
class StytchOAuthCallbackView(View):
    """``/login/oauth/callback/?token=…``: Stytch's OAuth round trip lands here; complete the sign-in."""

    def get(self, request):
        if not app_settings.STYTCH_ENABLED:
            return render(request, "oauth/magic_link_invalid.html", status=404)
        try:
            identity, next_url = stytch_oauth.verify(request, request.GET.get("token", ""))
        except MagicLinkRejected:
            audit.record(AuthEvent.Kind.SIGN_IN_FAILED, request=request, error="oauth_rejected", method="sso")
            return render(request, "oauth/magic_link_invalid.html", status=400)
        except SignInServiceUnavailable:
            return render(request, "oauth/sign_in_unavailable.html", {"next": "/login/"}, status=503)
        return _stytch_first_factor(request, identity, next_url, "sso")


@method_decorator(never_cache, name="dispatch")
class SecondFactorView(View):
    """``/login/verify/``: the TOTP (or recovery) code of a person who passed the first factor."""

    def get(self, request):
        if login_flow.pending_user(request) is None:
            return redirect("accounts:login")
        return render(request, "oauth/verify_totp.html", {"form": TOTPForm()})

    def post(self, request):
        user = login_flow.pending_user(request)
        if user is None:
            return redirect("accounts:login")
        limited = _limited(request, f"otp:{user.pk}")
        if limited:
            return limited
        form = TOTPForm(request.POST)
        wait = mfa.wait_seconds(user, code=form.data.get("code"))
        if wait:  # django-otp would refuse even the right code now: say so, instead of "not valid"
            form.is_valid()
            form.add_error(None, mfa.wait_message(wait))
            return render(request, "oauth/verify_totp.html", {"form": form}, status=200)
        if form.is_valid() and mfa.verify(user, form.cleaned_data["code"]):
            audit.record(AuthEvent.Kind.MFA_VERIFIED, user=user, request=request, stage="sign_in")
            return redirect(login_flow.second_factor_passed(request, user))
        audit.record(AuthEvent.Kind.MFA_FAILED, user=user, request=request, error="invalid_code", stage="sign_in")
        message = "That code is not valid. Try the current code from your app, or a recovery code."
        wait = mfa.wait_seconds(user, code=form.data.get("code"))
        if wait:
            message += f" You can try again in {wait} second{'s' if wait != 1 else ''}."
        form.add_error("code", message)
        return render(request, "oauth/verify_totp.html", {"form": form}, status=200)


class SignOutView(auth_views.LogoutView):
    template_name = "oauth/logged_out.html"


class _PasswordResetOffered:
    """Password reset (Django's four views) only where it can work: local passwords (not Stytch)
    and somewhere to send the link (``MCPRAG_PASSWORD_RESET``: ``EMAIL_HOST`` is set, or
    a loopback development URL, whose console email backend prints the link to the log). Elsewhere
    every reset page says it is off (404), and no reset link is ever made or accepted."""

    def dispatch(self, request, *args, **kwargs):
        if app_settings.STYTCH_ENABLED:
            return redirect("accounts:login")  # no passwords with Stytch sign-in
        if not app_settings.PASSWORD_RESET:
            return render(request, "oauth/password_reset_unavailable.html", status=404)
        return super().dispatch(request, *args, **kwargs)


@method_decorator(sensitive_post_parameters("email"), name="dispatch")
class PasswordResetView(_PasswordResetOffered, auth_views.PasswordResetView):
    """``/password-reset/``: Django's view, with the sign-in pages' limits on the emails it sends:
    per client address (``password_reset_ip``) and per address typed (``password_reset_account``),
    a 429 page with ``Retry-After`` when over either, whether or not the address has an account."""

    template_name = "oauth/password_reset.html"
    email_template_name = "oauth/password_reset_email.txt"
    subject_template_name = "oauth/password_reset_subject.txt"
    success_url = "/password-reset/sent/"

    def form_valid(self, form):
        limited = _limited(self.request, form.cleaned_data["email"], per_ip="password_reset_ip", per_account="password_reset_account")
        return limited or super().form_valid(form)


class PasswordResetDoneView(_PasswordResetOffered, auth_views.PasswordResetDoneView):
    template_name = "oauth/password_reset_sent.html"


class PasswordResetConfirmView(_PasswordResetOffered, auth_views.PasswordResetConfirmView):
    template_name = "oauth/password_reset_confirm.html"
    success_url = "/reset/done/"


class PasswordResetCompleteView(_PasswordResetOffered, auth_views.PasswordResetCompleteView):
    template_name = "oauth/password_reset_complete.html"


__all__ = ["SignInView", "MagicLinkCallbackView", "StytchOAuthStartView", "StytchOAuthCallbackView", "SecondFactorView", "SignOutView", "PasswordResetView",
           "PasswordResetDoneView", "PasswordResetConfirmView", "PasswordResetCompleteView", "forms"]
