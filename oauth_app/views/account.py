"""The signed-in person's own pages: overview and TOTP enrolment (``/account/mfa/``).

None of them may be stored by a browser or shared cache (``Cache-Control: no-store``): they show
one person's data, and enrolment shows the TOTP secret and recovery codes."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from .. import audit
from ..flows import login as login_flow
from ..flows import mfa
from ..forms import TOTPForm
from ..login_backends import SignInServiceUnavailable
from ..models import AuthEvent
from ..scopes import tier_of
from ..tiers import is_multi_factor

ENROLMENT_KEY = "mcprag_mfa_enrolment"


def _agents_url() -> str | None:
    """The connected-agents page, if the console app serves it."""
    for name in ("account:agents", "console:connected-agents", "connected-agents"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


@method_decorator(never_cache, name="dispatch")
class AccountView(LoginRequiredMixin, View):
    def get(self, request):
        return render(request, "oauth/account.html", {
            "tier": tier_of(request.user), "mfa_enrolled": mfa.is_enrolled(request.user),
            "amr": login_flow.session_amr(request), "agents_url": _agents_url(),
        })


@method_decorator(never_cache, name="dispatch")
class MFAEnrolView(LoginRequiredMixin, View):
    """Show a QR code (rendered on the server) and confirm the first code; then the recovery codes.

    Replacing an enrolled authenticator takes a session that proved the current one (or a
    recovery code) first: otherwise a session signed in with a password alone (one older than
    the enrolment, or a stolen one) could swap in its own device, pass the console's multi-factor
    gate with it and lock the owner out (ASVS 2.5: re-authenticate before changing a factor).
    The step-up page (``/account/mfa/verify/``) sends the person back here."""

    def dispatch(self, request, *args, **kwargs):
        if (request.user.is_authenticated and mfa.is_enrolled(request.user)
                and not is_multi_factor(login_flow.session_amr(request))):
            return redirect(f"{reverse('accounts:mfa-verify')}?{urlencode({'next': reverse('accounts:mfa')})}")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        try:
            enrolment = mfa.start_enrolment(request.user)
        except SignInServiceUnavailable:
            return render(request, "oauth/sign_in_unavailable.html", {"next": "/account/"}, status=503)
        request.session[ENROLMENT_KEY] = login_flow.safe_next(request, request.GET.get("next"))
        return render(request, "oauth/mfa_enrol.html", {
            "qr_svg": mfa.qr_svg(enrolment.otpauth_uri), "secret": enrolment.secret_base32,
            "recovery_codes": enrolment.recovery_codes, "form": TOTPForm(), "already": mfa.is_enrolled(request.user),
        })

    def post(self, request):
        form = TOTPForm(request.POST)
        pending = mfa.pending_enrolment(request.user) if request.session.get(ENROLMENT_KEY) else None
        wait = mfa.wait_seconds(request.user, enrolling=True) if pending else 0
        if wait:  # django-otp would not even check the code: say how long to wait, keep the secret
            return self._again(request, pending, mfa.wait_message(wait))
        codes = mfa.confirm_enrolment(request.user, form.data.get("code", "")) if request.session.get(ENROLMENT_KEY) else None
        if codes is None:
            audit.record(AuthEvent.Kind.MFA_FAILED, user=request.user, request=request, error="invalid_code", stage="enrolment")
            if pending is None:  # no enrolment in this session (or Stytch's): start again
                return render(request, "oauth/mfa_failed.html", status=400)
            wait = mfa.wait_seconds(request.user, enrolling=True)
            message = "That code did not match. Type the 6-digit code your app shows now (it changes every 30 seconds)."
            if wait:
                message += f" You can try again in {wait} second{'s' if wait != 1 else ''}."
            return self._again(request, pending, message)
        audit.record(AuthEvent.Kind.MFA_ENROLLED, user=request.user, request=request)
        next_url = request.session.pop(ENROLMENT_KEY, None) or "/account/"
        login_flow.step_up(request, request.user)
        return render(request, "oauth/mfa_done.html", {"recovery_codes": codes, "next": next_url})


    @staticmethod
    def _again(request, enrolment, error: str):
        """The same enrolment page (same secret and QR code: nothing to re-scan) with ``error``."""
        return render(request, "oauth/mfa_enrol.html", {
            "qr_svg": mfa.qr_svg(enrolment.otpauth_uri), "secret": enrolment.secret_base32, "recovery_codes": [],
            "form": TOTPForm(), "already": mfa.is_enrolled(request.user), "error": error,
        }, status=400)


@method_decorator(never_cache, name="dispatch")
class MFAStepUpView(LoginRequiredMixin, View):
    """``/account/mfa/verify/``: an enrolled, signed-in person proves a code now (for admin scopes)."""

    def get(self, request):
        if not mfa.is_enrolled(request.user):
            return redirect("accounts:mfa")
        return render(request, "oauth/verify_totp.html", {"form": TOTPForm(), "next": login_flow.safe_next(request, request.GET.get("next"))})

    def post(self, request):
        next_url = login_flow.safe_next(request, request.POST.get("next"))
        form = TOTPForm(request.POST)
        wait = mfa.wait_seconds(request.user, code=form.data.get("code"))
        if wait:
            form.is_valid()
            form.add_error(None, mfa.wait_message(wait))
            return render(request, "oauth/verify_totp.html", {"form": form, "next": login_flow.safe_next(request, request.POST.get("next"))})
        if form.is_valid() and mfa.verify(request.user, form.cleaned_data["code"]):
            audit.record(AuthEvent.Kind.MFA_VERIFIED, user=request.user, request=request, stage="step_up")
            login_flow.step_up(request, request.user)
            return redirect(next_url)
        audit.record(AuthEvent.Kind.MFA_FAILED, user=request.user, request=request, error="invalid_code", stage="step_up")
        form.add_error("code", "That code is not valid.")
        return render(request, "oauth/verify_totp.html", {"form": form, "next": next_url})
