"""Django admin for the authorization server's models.

Audit rows are read-only, signing keys never show their (encrypted) private key, and a person's
tier is changed in the console (``console.services.change_tier`` keeps the reason), not here.
DOT registers its token models itself; the Application admin is replaced to show mcprag's fields.
"""

from __future__ import annotations

from django.contrib import admin
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin

from mcprag_site.read_only_admin import ReadOnlyAdmin

from .models import (Application, AuthEvent, Consent, Profile, SigningKey, TierRule, TokenFamilyContext,
                     UsedAuthorizationCode)

__all__ = ["ApplicationAdmin", "ProfileAdmin", "SigningKeyAdmin", "ConsentAdmin", "AuthEventAdmin", "TierRuleAdmin",
           "TokenFamilyContextAdmin", "UsedAuthorizationCodeAdmin"]


if admin.site.is_registered(Application):
    admin.site.unregister(Application)


@admin.register(Application)
class ApplicationAdmin(DOTApplicationAdmin):
    list_display = ("pk", "name", "client_id", "registration_source", "authorization_grant_type", "disabled_at", "created")
    list_filter = DOTApplicationAdmin.list_filter + ("disabled_at",)
    search_fields = ("name", "client_id")
    readonly_fields = DOTApplicationAdmin.readonly_fields + ("registration_metadata", "created", "updated")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "tier")
    list_filter = ("tier",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        # Tier changes go through the console, which requires and records a reason.
        return ("user", "tier") if obj is not None else ()


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ("kid", "algorithm", "created_at", "retired_at")
    exclude = ("private_key_encrypted",)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("user", "application", "scopes", "resource", "granted_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user", "application")
    search_fields = ("user__username", "application__name", "application__client_id")


@admin.register(AuthEvent)
class AuthEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "user", "client_id", "ip", "error")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("client_id", "user__username")
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(TierRule)
class TierRuleAdmin(admin.ModelAdmin):
    """Rules for a new person's tier (an email domain or one address); they apply at account creation."""

    list_display = ("pattern", "tier", "created_at")
    list_filter = ("tier",)
    search_fields = ("pattern",)


@admin.register(TokenFamilyContext)
class TokenFamilyContextAdmin(ReadOnlyAdmin):
    list_display = ("token_family", "amr", "created_at")


@admin.register(UsedAuthorizationCode)
class UsedAuthorizationCodeAdmin(ReadOnlyAdmin):
    """Exchanged codes (by hash) and what was issued for them, kept until they expire."""

    list_display = ("application", "access_token_pk", "token_family", "created_at", "expires_at")
    list_select_related = ("application",)
    exclude = ("code_hash",)
