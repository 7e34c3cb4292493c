"""OpenID Connect single sign-on (Okta, Entra ID, Keycloak, Google Workspace, any OpenID
Connect provider), built on mozilla-django-oidc at its documented extension points.

* **Discovery** — the provider's endpoints come from ``<MCPRAG_OIDC_ISSUER>/.well-known/openid-configuration``
  (OpenID Connect Discovery 1.0 §4), cached for an hour; the document's ``issuer`` must equal
  the configured one (§4.3). :func:`provider_config`.
* **Authorization code flow with PKCE (S256) and ``nonce``** — ``state``, ``nonce`` and the
  ``code_verifier`` are kept in the session by mozilla-django-oidc
  (:class:`oauth_app.views.sso.SSOStartView`).
* **ID token** — RS256 (or the algorithm the provider lists first), key from its JWKS; ``iss``,
  ``aud`` (our client id), ``exp``, ``iat`` and ``nonce`` checked (OpenID Connect Core §3.1.3.7),
  which mozilla-django-oidc alone leaves to its users (:meth:`OIDCBackend._verify_jws`).
* **Accounts just in time, matched by verified email** — ``email`` with ``email_verified: true``
  (or any ``email`` with ``MCPRAG_OIDC_TRUST_EMAIL``) signs in the account with that address,
  created on first sight (:func:`oauth_app.services.person_for_verified_email`).
* **Rules** — ``MCPRAG_OIDC_RULES`` map claims (``groups``, ``roles``, ``realm_access.roles`` …)
  to a tier and repository groups at every sign-in (:func:`apply_rules`).
* **Multi-factor** — ``amr`` values listed in ``MCPRAG_OIDC_MFA_AMR`` make the sign-in count as
  multi-factor (``mfa`` among mcprag's methods), which admin scopes need (:func:`sign_in_methods`).

Errors: :class:`SSOUnavailable` when the provider cannot be reached or answers badly; a refused
identity (unverified email, bad token) makes :meth:`OIDCBackend.authenticate` return None, with
the reason in ``request.mcprag_sso_error`` (an identifier, never a token or claim value).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from mcprag_site.hosts import is_loopback_host

from .app_settings import app_settings
from .profiles import tier_for_new_person
from .tiers import Tier

__all__ = ["SSOUnavailable", "ProviderConfig", "provider_config", "oidc_setting", "OIDCBackend", "apply_rules",
           "sign_in_methods", "claim_values"]

logger = logging.getLogger(__name__)

DISCOVERY_CACHE_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10
#: Tiers a rule may give, lowest first: the highest matched rule wins.
RULE_TIERS = (Tier.PUBLIC, Tier.DEVELOPER, Tier.ADMIN)
_SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")


class SSOUnavailable(Exception):
    """The identity provider could not be reached, or its discovery document is unusable."""


@dataclass(frozen=True)
class ProviderConfig:
    """What discovery found: the endpoints and the ID-token signing algorithm."""

    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    signing_algorithm: str


def _same_security(url: str, issuer: str) -> bool:
    """An endpoint must be https, or plain http on a loopback host when the issuer is too (tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and urlsplit(issuer).scheme == "http" and is_loopback_host(parts.hostname or "")


def provider_config() -> ProviderConfig:
    """The provider's endpoints, from its discovery document (cached for an hour).

    :raises SSOUnavailable: unreachable, not JSON, another ``issuer``, or a missing endpoint.
    """
    issuer = app_settings.OIDC["ISSUER"]
    key = f"mcprag:oidc-discovery:{issuer}"
    cached = cache.get(key)
    if cached:
        return ProviderConfig(**cached)
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("OpenID Connect discovery failed: %s", exc.__class__.__name__)
        raise SSOUnavailable("discovery failed") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        logger.warning("OpenID Connect discovery: the document names another issuer")
        raise SSOUnavailable("issuer mismatch")
    endpoints = {name: document.get(name) for name in ("authorization_endpoint", "token_endpoint",
                                                       "userinfo_endpoint", "jwks_uri")}
    for name, value in endpoints.items():
        if not isinstance(value, str) or not _same_security(value, issuer):
            logger.warning("OpenID Connect discovery: %s missing or not https", name)
            raise SSOUnavailable(f"{name} unusable")
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithm = "RS256" if "RS256" in offered else next((a for a in offered if a in _SIGNING_ALGORITHMS), None)
    if algorithm is None:
        raise SSOUnavailable("no supported ID token signing algorithm")
    config = ProviderConfig(**endpoints, signing_algorithm=algorithm)
    cache.set(key, config.__dict__, DISCOVERY_CACHE_SECONDS)
    return config


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's settings (its ``get_settings`` hook), from ``MCPRAG_OIDC_*`` and discovery."""
    oidc = app_settings.OIDC
    fixed = {
        "OIDC_RP_CLIENT_ID": oidc.get("CLIENT_ID"), "OIDC_RP_CLIENT_SECRET": oidc.get("CLIENT_SECRET"),
        "OIDC_RP_SCOPES": oidc.get("SCOPES"), "OIDC_USE_PKCE": True, "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_USE_NONCE": True, "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:sso-callback",
        "OIDC_TIMEOUT": HTTP_TIMEOUT_SECONDS, "OIDC_VERIFY_SSL": True, "OIDC_CREATE_USER": True,
        "OIDC_STORE_ACCESS_TOKEN": False, "OIDC_STORE_ID_TOKEN": False, "OIDC_TOKEN_USE_BASIC_AUTH": False,
        "OIDC_ALLOW_UNSECURED_JWT": False, "OIDC_VERIFY_KID": True, "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
    }
    if attr in fixed:
        return fixed[attr]
    discovered = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint", "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
                  "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint", "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
                  "OIDC_RP_SIGN_ALGO": "signing_algorithm"}
    if attr in discovered:
        return getattr(provider_config(), discovered[attr])
    if default:
        return default[0]
    raise KeyError(attr)


def claim_values(claims: dict, path: str) -> list[str]:
    """The values of claim ``path`` (dotted for nested objects, e.g. ``realm_access.roles``) as strings.

    >>> claim_values({"realm_access": {"roles": ["a", "b"]}}, "realm_access.roles")
    ['a', 'b']
    """
    value = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, dict):
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values if not isinstance(v, (dict, list))]


def _rule_value(rule) -> str:
    value = rule["value"]
    return str(value).lower() if isinstance(value, bool) else str(value)


@transaction.atomic
def apply_rules(user, claims: dict) -> None:
    """Apply ``MCPRAG_OIDC_RULES`` to a person who just signed in with ``claims``.

    * **tier** — when any rule names a tier, the provider manages tiers: the highest tier among
      the matching rules, or, when none matches, the tier a new person with that email gets
      (:func:`oauth_app.profiles.tier_for_new_person`). A lower tier applies from the next call.
    * **groups** — the repository groups named by matching rules are joined; groups named only
      by rules that do not match are left; groups no rule names are not touched (an operator
      manages those).
    """
    from .services import set_tier

    rules = app_settings.OIDC.get("RULES") or []
    matched = [rule for rule in rules if _rule_value(rule) in claim_values(claims, rule["claim"])]
    if any("tier" in rule for rule in rules):
        tiers = [rule["tier"] for rule in matched if "tier" in rule]
        set_tier(user, max(tiers, key=RULE_TIERS.index) if tiers else tier_for_new_person(user.email))
    managed = {name for rule in rules for name in rule.get("groups", [])}
    wanted = {name for rule in matched for name in rule.get("groups", [])}
    if managed:
        user.groups.remove(*user.groups.filter(name__in=managed - wanted))
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in sorted(wanted)))


def sign_in_methods(claims: dict) -> list[str]:
    """mcprag's RFC 8176 methods for this sign-in: ``sso``, plus ``mfa`` when the provider's ``amr``
    holds a value the operator listed in ``MCPRAG_OIDC_MFA_AMR``."""
    trusted = set(app_settings.OIDC.get("MFA_AMR") or [])
    return ["sso", "mfa"] if trusted & set(claim_values(claims, "amr")) else ["sso"]


def _email_verified(claims: dict) -> bool:
    verified = claims.get("email_verified")
    return verified is True or str(verified).lower() == "true" or bool(app_settings.OIDC.get("TRUST_EMAIL"))


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with discovery, a full ID-token check and mcprag's accounts.

    It answers only the single sign-on callback (its ``nonce`` argument); password sign-ins pass
    it by without a network call. On success ``request.mcprag_sso_methods`` holds the sign-in's
    methods (:func:`sign_in_methods`); on refusal ``request.mcprag_sso_error`` says why.
    """

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):  # no discovery here: Django builds every backend for every sign-in
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not app_settings.OIDC_ENABLED:
            return None
        config = provider_config()
        self.OIDC_OP_TOKEN_ENDPOINT = config.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = config.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = config.jwks_uri
        self.OIDC_RP_CLIENT_ID = app_settings.OIDC["CLIENT_ID"]
        self.OIDC_RP_CLIENT_SECRET = app_settings.OIDC["CLIENT_SECRET"]
        self.OIDC_RP_SIGN_ALGO = config.signing_algorithm
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            return super().authenticate(request, **kwargs)
        except SuspiciousOperation as exc:
            request.mcprag_sso_error = getattr(request, "mcprag_sso_error", "") or "id_token_rejected"
            logger.warning("single sign-on refused: %s", exc)
            return None

    def _verify_jws(self, payload, key):
        """Signature, ``iss``, ``aud``, ``exp`` and ``iat`` (OpenID Connect Core §3.1.3.7); ``nonce``
        is compared by the caller, :meth:`verify_token`."""
        try:
            alg = jwt.get_unverified_header(payload).get("alg")
            if alg != self.OIDC_RP_SIGN_ALGO:
                raise SuspiciousOperation(f"ID token signed with {alg!r}, expected {self.OIDC_RP_SIGN_ALGO}")
            return jwt.decode(payload, key, algorithms=[alg], audience=self.OIDC_RP_CLIENT_ID,
                              issuer=app_settings.OIDC["ISSUER"], leeway=60,
                              options={"require": ["iss", "aud", "exp", "iat", "sub"]})
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token rejected: {exc.__class__.__name__}") from None

    def get_or_create_user(self, access_token, id_token, payload):
        """Merge the ID token's claims with userinfo's (the signed token wins), check the email,
        find or create the account, apply the rules."""
        from .services import person_for_verified_email

        userinfo = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            self.request.mcprag_sso_error = "userinfo_subject_mismatch"  # OpenID Connect Core §5.3.2
            raise SuspiciousOperation("userinfo answered for another subject")
        claims = {**userinfo, **payload}
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            self.request.mcprag_sso_error = "no_email"
            raise SuspiciousOperation("the provider sent no email address")
        if not _email_verified(claims):
            self.request.mcprag_sso_error = "email_not_verified"
            raise SuspiciousOperation("the provider did not say the email address is verified")
        user = person_for_verified_email(email)
        if user.is_active:
            apply_rules(user, claims)
        self.request.mcprag_sso_methods = sign_in_methods(claims)
        return user
