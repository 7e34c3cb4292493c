"""State changes of the authorization server that other apps and commands call."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from . import audit
from .flows.consent import withdraw
from .models import Application, AuthEvent, Profile
from .profiles import ensure_profile
from .tiers import PERSON_TIERS, Tier, scopes_for_tier

__all__ = ["create_or_update_account", "set_tier", "create_service_client", "revoke_agent", "person_for_verified_email"]


@transaction.atomic
def person_for_verified_email(email: str, *, stytch_user_id: str = ""):
    """The account for an email address a sign-in provider has verified; created if new.

    Matching is by Stytch user id first, then by email (case-insensitive). Returns the user.
    """
    User = get_user_model()
    email = email.strip().lower()
    profile = Profile.objects.select_related("user").filter(stytch_user_id=stytch_user_id).first() if stytch_user_id else None
    user = profile.user if profile else User.objects.filter(email__iexact=email).order_by("id").first()
    if user is None:
        username = email
        while User.objects.filter(username=username).exists():
            username = f"{email}+{User.objects.count()}"
        user = User.objects.create_user(username=username[:150], email=email)
        user.set_unusable_password()
        user.save()
    profile = ensure_profile(user)
    if stytch_user_id and profile.stytch_user_id != stytch_user_id:
        profile.stytch_user_id = stytch_user_id
        profile.save(update_fields=["stytch_user_id"])
    return user


@transaction.atomic
def create_or_update_account(username: str, *, email: str = "", password: str | None = None, tier: str | None = None):
    """Create the local account ``username`` (or update it); returns ``(user, created)``.

    ``tier``: the tier to set; None keeps an existing account's tier and gives a new account the
    tier the rules give a new person (``profiles.tier_for_new_person``: tier rules,
    ``MCPRAG_ADMIN_EMAILS``, ``MCPRAG_DEVELOPER_DOMAINS``, else ``public``). Updating an account
    never changes its tier unless asked to.

    :raises ValueError: unknown tier, or one that is not a person's (``service``).
    """
    if tier is not None:
        _check_person_tier(tier)
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if email and user.email != email:
        user.email = email
    if password is not None:
        user.set_password(password)
    user.save()
    if tier is not None:
        set_tier(user, tier)
    else:
        ensure_profile(user)  # a new account: the rules' tier, from its email
    return user, created


def set_tier(user, tier: str) -> Profile:
    """Set a person's tier; it applies to their very next tool call (:mod:`oauth_app.effective_scopes`).

    :raises ValueError: unknown tier, or one that is not a person's (``service``)."""
    _check_person_tier(tier)
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"tier": tier})
    return profile


def _check_person_tier(tier: str) -> None:
    if tier not in PERSON_TIERS:
        choices = ", ".join(t for t in Tier.values if t in PERSON_TIERS)
        why = " (it is for service clients: create_service_client)" if tier == Tier.SERVICE else ""
        raise ValueError(f"A person's tier cannot be {tier!r}{why}; choose one of {choices}.")


def create_service_client(name: str, scopes: list[str]):
    """Create a confidential client-credentials client (service tier); returns ``(application, secret)``.

    The secret is returned once and stored hashed (DOT ``hash_client_secret``).

    ``scopes`` may be any of the service tier's (:data:`oauth_app.tiers.TIER_SCOPES`), including
    ``token:introspect``, which lets the client use RFC 7662 introspection.

    :raises ValueError: an unknown scope or an empty scope list, or a service client of that name
        exists already (``mcp_stdio --client NAME`` finds a client by its name).
    """
    service_scopes = scopes_for_tier(Tier.SERVICE)
    unknown = sorted(set(scopes) - service_scopes)
    if unknown or not scopes:
        raise ValueError(f"Unknown or missing scopes: {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(sorted(service_scopes))}.")
    same = Application.objects.filter(name=name, authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS).first()
    if same is not None:
        raise ValueError(f"A service client named {name!r} exists already (client_id {same.client_id}); choose another name.")
    secret = generate_client_secret()
    application = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        allowed_scopes=" ".join(sorted(set(scopes))),
    )
    return application, secret


@transaction.atomic
def revoke_agent(user, application, request=None) -> int:
    """Withdraw ``user``'s consent for ``application`` and revoke every token of that pair.

    The one path every "revoke" takes (connected-agents page, console, tests): the agent's next
    call gets 401. Returns the number of access tokens revoked.
    """
    withdraw(user, application, request=request)
    access = get_access_token_model().objects.filter(user=user, application=application)
    count = access.count()
    get_refresh_token_model().objects.filter(user=user, application=application, revoked__isnull=True).update(
        revoked=timezone.now()
    )
    access.delete()
    audit.record(AuthEvent.Kind.TOKEN_REVOKED, user=user, client_id=application.client_id, request=request,
                 access_tokens=count, reason="agent revoked")
    return count
