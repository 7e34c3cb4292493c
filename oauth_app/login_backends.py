"""Sign-in backends behind one interface. No other module imports ``stytch``.

* :class:`UsernameOrEmailBackend` — Django authentication backend for local accounts (the
  embedded default): the username field also takes the email address.
* :class:`StytchClient` — email magic links, OAuth sign-in (Google, GitHub, Microsoft, …) and
  TOTP through the official Stytch SDK, used when ``STYTCH_PROJECT_ID`` and ``STYTCH_SECRET`` are
  set. Magic links and OAuth run with PKCE, so a link or an OAuth round trip only signs in the
  browser that started it.

Stytch errors are translated at this boundary, into this module's own exceptions:
:class:`MagicLinkRejected` for an expired, used or forged link (or a wrong TOTP code), and
:class:`SignInServiceUnavailable` when Stytch cannot be reached or answers with a server error.
Messages never contain tokens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .app_settings import app_settings

__all__ = [
    "UsernameOrEmailBackend", "StytchClient", "VerifiedEmail", "TOTPEnrolment",
    "MagicLinkRejected", "SignInServiceUnavailable", "stytch_client",
]

logger = logging.getLogger(__name__)


class UsernameOrEmailBackend(ModelBackend):
    """Django's ModelBackend that also accepts the email address in the username field."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            User = get_user_model()
            match = User._default_manager.filter(email__iexact=username.strip()).order_by("id").first()
            if match is not None:
                username = match.get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)


class MagicLinkRejected(Exception):
    """The link (or code) is expired, already used, or not one Stytch issued for this browser."""


class SignInServiceUnavailable(Exception):
    """Stytch could not be reached or failed; the person should try again later."""


@dataclass(frozen=True)
class VerifiedEmail:
    email: str
    stytch_user_id: str


@dataclass(frozen=True)
class TOTPEnrolment:
    totp_id: str
    secret: str
    recovery_codes: list[str]


def _translate(exc: Exception, rejected_types: tuple[str, ...]) -> Exception:
    from stytch.core.response_base import StytchError  # loaded already: only a StytchClient calls this

    if isinstance(exc, StytchError):
        details = getattr(exc, "details", None)
        status = getattr(details, "status_code", 500) or 500
        error_type = getattr(details, "error_type", "") or ""
        logger.info("Stytch refused a request: status=%s type=%s", status, error_type)
        if 400 <= status < 500 and (error_type in rejected_types or status in (400, 401, 404)):
            return MagicLinkRejected(error_type or "rejected")
        return SignInServiceUnavailable(error_type or f"status {status}")
    logger.warning("Stytch unreachable: %s", exc.__class__.__name__)
    return SignInServiceUnavailable(exc.__class__.__name__)


_REJECTED = ("magic_link_not_found", "unable_to_auth_magic_link", "pkce_mismatch", "otp_code_not_found",
             "totp_code_already_authenticated", "invalid_totp_code", "recovery_code_not_found", "unauthorized_credentials")


class StytchClient:
    """Thin wrapper over ``stytch.Client`` for the calls mcprag makes: magic links (sent with
    PKCE) and TOTP."""

    def __init__(self) -> None:
        # Only when Stytch is configured: its SDK takes ~0.9 s to import (measured with -X importtime,
        # once per process: every manage.py command and server start) and most deployments do not use it.
        import stytch
        from stytch.core.response_base import StytchError

        #: What the Stytch SDK raises: API errors, and transport failures of its requests session.
        self._errors = (StytchError, requests.RequestException, ValueError)

        kwargs = {}
        base = settings.STYTCH_API_BASE_URL
        if base and base.startswith("https://"):
            kwargs["custom_base_url"] = base
        elif base:
            kwargs["environment"] = base if base.endswith("/") else base + "/"  # local test server only
        self._client = stytch.Client(settings.STYTCH_PROJECT_ID, settings.STYTCH_SECRET, suppress_warnings=True, **kwargs)

    def send_magic_link(self, email: str, callback_url: str, code_challenge: str) -> None:
        minutes = app_settings.MAGIC_LINK_MINUTES
        try:
            self._client.magic_links.email.login_or_create(
                email=email, login_magic_link_url=callback_url, signup_magic_link_url=callback_url,
                login_expiration_minutes=minutes, signup_expiration_minutes=minutes, code_challenge=code_challenge,
            )
        except self._errors as exc:
            raise _translate(exc, ()) from exc

    def authenticate_magic_link(self, token: str, code_verifier: str) -> VerifiedEmail:
        try:
            response = self._client.magic_links.authenticate(token=token, code_verifier=code_verifier)
        except self._errors as exc:
            raise _translate(exc, _REJECTED) from exc
        emails = [e.email for e in response.user.emails if getattr(e, "verified", True)]
        if not emails:
            raise MagicLinkRejected("no verified email")
        return VerifiedEmail(email=emails[0], stytch_user_id=response.user_id)

    def oauth_start_url(self, provider: str, callback_url: str, code_challenge: str) -> str:
        """Where the browser goes to sign in with ``provider`` through Stytch (its public
        ``/v1/public/oauth/{provider}/start`` endpoint, with PKCE); Stytch comes back to
        ``callback_url`` with ``token``."""
        base = settings.STYTCH_API_BASE_URL or (
            "https://test.stytch.com" if settings.STYTCH_PROJECT_ID.startswith("project-test-") else "https://api.stytch.com")
        query = urlencode({"public_token": settings.STYTCH_PUBLIC_TOKEN, "login_redirect_url": callback_url,
                           "signup_redirect_url": callback_url, "code_challenge": code_challenge})
        return f"{base.rstrip('/')}/v1/public/oauth/{quote(provider)}/start?{query}"

    def authenticate_oauth(self, token: str, code_verifier: str) -> VerifiedEmail:
        try:
            response = self._client.oauth.authenticate(token=token, code_verifier=code_verifier)
        except self._errors as exc:
            raise _translate(exc, _REJECTED + ("oauth_token_not_found",)) from exc
        emails = [e.email for e in response.user.emails if getattr(e, "verified", True)]
        if not emails:
            raise MagicLinkRejected("no verified email")
        return VerifiedEmail(email=emails[0], stytch_user_id=response.user_id)

    def create_totp(self, stytch_user_id: str) -> TOTPEnrolment:
        try:
            response = self._client.totps.create(user_id=stytch_user_id)
        except self._errors as exc:
            raise _translate(exc, ()) from exc
        return TOTPEnrolment(totp_id=response.totp_id, secret=response.secret, recovery_codes=list(response.recovery_codes))

    def authenticate_totp(self, stytch_user_id: str, code: str) -> None:
        try:
            self._client.totps.authenticate(user_id=stytch_user_id, totp_code=code)
        except self._errors as exc:
            raise _translate(exc, _REJECTED) from exc

    def recover_totp(self, stytch_user_id: str, recovery_code: str) -> None:
        try:
            self._client.totps.recover(user_id=stytch_user_id, recovery_code=recovery_code)
        except self._errors as exc:
            raise _translate(exc, _REJECTED) from exc


def stytch_client() -> StytchClient | None:
    """The Stytch client when Stytch is configured, else None (local accounts)."""
    return StytchClient() if app_settings.STYTCH_ENABLED else None
