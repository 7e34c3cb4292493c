"""Audit receivers: the authorization-server events that happen inside Django or DOT code.

Connected once in :meth:`oauth_app.apps.OauthAppConfig.ready`. Each writes one
:class:`~oauth_app.models.AuthEvent` through :func:`oauth_app.audit.record`; none changes what
the server does, and none stores a password, token, code or secret — only identifiers.

=======================  ==================================================================
event                    hook
=======================  ==================================================================
``sign_in``              Django ``user_logged_in``
``sign_in_failed``       Django ``user_login_failed`` (its ``credentials`` are never stored);
                         a rejected magic link or a disabled account behind one is recorded
                         by ``views.login.MagicLinkCallbackView`` itself
``mfa_*``                ``mfa_enrolled``, ``mfa_verified``, ``mfa_failed``: recorded by the
                         second-factor, step-up and enrolment views (``stage`` in ``detail``)
``token_issued``         DOT ``app_authorized`` (any grant but ``refresh_token``)
``token_refreshed``      DOT ``app_authorized`` with ``grant_type=refresh_token``
``token_revoked``        a token deleted/revoked while serving DOT's ``/revoke_token/``
                         (RFC 7009); DOT sends no signal there, see :class:`_Revocation`
``refresh_reuse``        not recorded: DOT revokes the family inside
                         ``OAuth2Validator.validate_refresh_token`` and sends no signal
``code_reuse``           recorded by :mod:`oauth_app.code_reuse` from the validator when a
                         replayed authorization code revokes the tokens issued from it
=======================  ==================================================================
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save
from django.urls import NoReverseMatch, reverse
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.signals import app_authorized

from mcprag_site import metrics

from . import audit
from .models import AuthEvent

__all__ = ["connect"]

logger = logging.getLogger(__name__)
_DISPATCH = "oauth_app.signals."


# --- sign-in ------------------------------------------------------------------------------------

def _signed_in(sender, request, user, **kwargs) -> None:
    audit.record(AuthEvent.Kind.SIGN_IN, user=user, request=request)


def _known_account(identifier: str):
    """The account a failed sign-in named (by username or email), if any — never the text itself,
    which may be a password typed into the wrong field."""
    if not identifier:
        return None
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: identifier}).first()
    if user is None and "@" in identifier:
        user = User._default_manager.filter(email__iexact=identifier.strip()).order_by("id").first()
    return user


def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    user = _known_account(str((credentials or {}).get(get_user_model().USERNAME_FIELD) or ""))
    audit.record(AuthEvent.Kind.SIGN_IN_FAILED, user=user, request=request, error="invalid_credentials",
                 known_account=user is not None)


# --- tokens -------------------------------------------------------------------------------------

def _jti(access_token) -> str:
    """The ``jti`` claim of an RFC 9068 access token (read without verifying: we just minted it);
    "" when only the token's hash is stored (``COMPLIANT_BCP_RFC9700_TOKEN_STORAGE``)."""
    try:
        return str(jwt.decode(access_token.token or "", options={"verify_signature": False}).get("jti") or "")
    except jwt.InvalidTokenError:
        return ""


def _token_issued(sender, request, token, **kwargs) -> None:
    grant_type = request.POST.get("grant_type", "") if request is not None else ""
    kind = AuthEvent.Kind.TOKEN_REFRESHED if grant_type == "refresh_token" else AuthEvent.Kind.TOKEN_ISSUED
    metrics.token_issued(grant_type)
    application = token.application
    detail = {"grant_type": grant_type, "scope": token.scope, "access_token_id": token.pk, "expires": token.expires.isoformat()}
    jti = _jti(token)
    if jti:
        detail["jti"] = jti
    audit.record(kind, user=token.user, client_id=application.client_id if application else "", request=request, **detail)


# --- revocation at /revoke_token/ ---------------------------------------------------------------

@dataclass
class _Revocation:
    """What one ``/revoke_token/`` request revoked; its first change writes the event, later ones
    (a refresh token's access token, then the refresh token) add their ids to the same row.

    It lives in a thread-local, not a ContextVar: under ASGI, Django sends ``request_started`` to
    sync receivers from a task of its own (``Signal.asend`` gathers them), so a ContextVar set
    there never reaches the view. The thread is the right scope: sync receivers and the sync
    view of one request run on that request's own thread (asgiref ``ThreadSensitiveContext``;
    under WSGI and the test client it is simply the request's thread).
    """

    ip: str | None
    event: AuthEvent | None = None
    access_token_ids: list[int] = field(default_factory=list)
    refresh_token_ids: list[int] = field(default_factory=list)


_local = threading.local()


def _current() -> _Revocation | None:
    return getattr(_local, "revocation", None)


def _revoke_path() -> str | None:
    try:
        return reverse("oauth2_provider:revoke-token")
    except NoReverseMatch:
        return None


def _request_started(sender, environ=None, scope=None, **kwargs) -> None:
    """Open a revocation scope for ``/revoke_token/`` requests only (any other path clears it)."""
    if scope is not None:
        path, ip = scope.get("path", ""), (scope.get("client") or [None])[0]
    else:
        path, ip = (environ or {}).get("PATH_INFO", ""), (environ or {}).get("REMOTE_ADDR")
    _local.revocation = _Revocation(ip=ip) if path and path == _revoke_path() else None


def _request_finished(sender, **kwargs) -> None:
    _local.revocation = None


def _note_revoked(instance, ids_attr: str) -> None:
    revocation = _current()
    if revocation is None:
        return
    getattr(revocation, ids_attr).append(instance.pk)
    detail = {"endpoint": "revoke_token", "access_token_ids": revocation.access_token_ids,
              "refresh_token_ids": revocation.refresh_token_ids}
    if revocation.event is None:
        application = instance.application
        revocation.event = audit.record(AuthEvent.Kind.TOKEN_REVOKED, user=instance.user,
                                        client_id=application.client_id if application else "",
                                        request=SimpleNamespace(META={"REMOTE_ADDR": revocation.ip}), **detail)
    else:
        AuthEvent.objects.filter(pk=revocation.event.pk).update(detail=detail)


def _access_token_deleted(sender, instance, **kwargs) -> None:
    _note_revoked(instance, "access_token_ids")


def _refresh_token_saved(sender, instance, created=False, **kwargs) -> None:
    if not created and instance.revoked is not None:
        _note_revoked(instance, "refresh_token_ids")


def connect() -> None:
    """Connect every receiver (idempotent: each has a dispatch_uid)."""
    user_logged_in.connect(_signed_in, dispatch_uid=_DISPATCH + "signed_in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid=_DISPATCH + "sign_in_failed")
    app_authorized.connect(_token_issued, dispatch_uid=_DISPATCH + "token_issued")
    request_started.connect(_request_started, dispatch_uid=_DISPATCH + "request_started")
    request_finished.connect(_request_finished, dispatch_uid=_DISPATCH + "request_finished")
    post_delete.connect(_access_token_deleted, sender=get_access_token_model(), dispatch_uid=_DISPATCH + "at_deleted")
    post_save.connect(_refresh_token_saved, sender=get_refresh_token_model(), dispatch_uid=_DISPATCH + "rt_saved")
