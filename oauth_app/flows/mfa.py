"""TOTP multi-factor authentication (RFC 6238) steps: enrol, confirm, verify.

Local accounts use django-otp (a TOTP device plus a static device of single-use recovery codes);
with Stytch configured, Stytch TOTP holds the secret and the recovery codes. Either way the
person is "enrolled" once a first code has been verified (``Profile.mfa_enrolled_at``).
Verification attempts are rate limited per account (``login_account``).
"""

from __future__ import annotations

import base64
import math
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import segno
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..login_backends import MagicLinkRejected, stytch_client
from ..models import Profile
from ..profiles import ensure_profile

__all__ = ["Enrolment", "is_enrolled", "start_enrolment", "confirm_enrolment", "verify", "qr_svg", "wait_seconds",
           "pending_enrolment", "wait_message"]

RECOVERY_CODES = 10


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the otpauth URI (as a QR code) and the base32 secret."""

    otpauth_uri: str
    secret_base32: str
    recovery_codes: list[str]


def _profile(user) -> Profile:
    return ensure_profile(user)


def is_enrolled(user) -> bool:
    return _profile(user).mfa_enrolled_at is not None


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG, rendered on the server (no third-party service)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#1d232b", light="#ffffff")


def _uri(user, secret_base32: str) -> str:
    label = quote(f"mcprag:{user.email or user.get_username()}")
    return f"otpauth://totp/{label}?secret={secret_base32}&issuer=mcprag&algorithm=SHA1&digits=6&period=30"


@transaction.atomic
def start_enrolment(user) -> Enrolment:
    """Begin (or restart) enrolment: a new, unconfirmed secret."""
    stytch = stytch_client()
    if stytch is not None:
        profile = _profile(user)
        enrolment = stytch.create_totp(profile.stytch_user_id)
        profile.stytch_totp_id = enrolment.totp_id
        profile.save(update_fields=["stytch_totp_id"])
        return Enrolment(_uri(user, enrolment.secret), enrolment.secret, enrolment.recovery_codes)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return Enrolment(_uri(user, secret), secret, [])


@transaction.atomic
def confirm_enrolment(user, code: str) -> list[str] | None:
    """Verify the first code; returns the recovery codes to show once, or None if the code is wrong."""
    code = (code or "").strip().replace(" ", "")
    stytch = stytch_client()
    profile = _profile(user)
    if stytch is not None:
        try:
            stytch.authenticate_totp(profile.stytch_user_id, code)
        except MagicLinkRejected:
            return None
        profile.mfa_enrolled_at = timezone.now()
        profile.save(update_fields=["mfa_enrolled_at"])
        return []
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    profile.mfa_enrolled_at = timezone.now()
    profile.save(update_fields=["mfa_enrolled_at"])
    return codes


def wait_seconds(user, *, enrolling: bool = False, code: str | None = None) -> int:
    """Seconds before ``user`` may try a code again after wrong ones, 0 when they may now.

    django-otp throttles each device after a wrong code (1 s, then 2, 4, 8 … for each further
    wrong code, ``OTP_TOTP_THROTTLE_FACTOR``); a code tried meanwhile is not even checked. The
    pages say this wait instead of calling a right code "not valid". ``enrolling``: the device
    being set up rather than the confirmed one. ``code``: the code about to be tried; a recovery
    code (not six digits) has its own device and throttle.
    """
    now = timezone.now()
    waits = [0]
    code = (code or "").strip().replace(" ", "")
    devices = StaticDevice if code and not (code.isdigit() and len(code) == 6) else TOTPDevice
    for device in devices.objects.filter(user=user, confirmed=not enrolling):
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            waits.append(math.ceil((info["locked_until"] - now).total_seconds()))
    return max(waits)


def wait_message(seconds: int) -> str:
    """"Too many wrong codes …" for a wait of ``seconds`` (≥ 1)."""
    unit = "second" if seconds == 1 else "seconds"
    return (f"Too many wrong codes in a row: wait {seconds} {unit}, then type the code your app shows then. "
            "A code typed before that is not checked.")


def pending_enrolment(user) -> Enrolment | None:
    """The enrolment in progress (its unconfirmed secret), to show again after a wrong code so the
    person need not scan a new QR code; None when there is none (or with Stytch, which keeps it)."""
    if stytch_client() is not None:
        return None
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        return None
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return Enrolment(_uri(user, secret), secret, [])


def verify(user, code: str) -> bool:
    """A TOTP code or an unused recovery code of an enrolled person (recovery codes are single-use)."""
    code = (code or "").strip().replace(" ", "")
    if not code or not is_enrolled(user):
        return False
    stytch = stytch_client()
    if stytch is not None:
        profile = _profile(user)
        try:
            if code.isdigit() and len(code) == 6:
                stytch.authenticate_totp(profile.stytch_user_id, code)
            else:
                stytch.recover_totp(profile.stytch_user_id, code)
        except MagicLinkRejected:
            return False
        return True
    # Six digits are a TOTP code; anything else is a recovery code (each device throttles its own failures).
    devices = TOTPDevice if (code.isdigit() and len(code) == 6) else StaticDevice
    return any(device.verify_token(code) for device in devices.objects.filter(user=user, confirmed=True))
