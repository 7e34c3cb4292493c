"""What the console itself stores: the log of operator actions (tier changes, client disable/revoke,
re-indexes started, repositories added or deleted), from the console and the operator API alike.

Auth events (:class:`oauth_app.models.AuthEvent`) and tool calls (:class:`mcp_gateway.models.ToolCall`)
stay where they are written; this log holds what an *operator* did and why (the reason they gave).
It never holds token material.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["OperatorAction"]


class OperatorAction(models.Model):
    """One state change made in the console, e.g. ``tier_changed`` of ``grace`` developer → public."""

    class Kind(models.TextChoices):
        TIER_CHANGED = "tier_changed", "Tier changed"
        CLIENT_DISABLED = "client_disabled", "Agent disabled"
        CLIENT_ENABLED = "client_enabled", "Agent enabled"
        CLIENT_REVOKED = "client_revoked", "Agent's tokens and consents revoked"
        REINDEX_STARTED = "reindex_started", "Re-index started"
        REPOSITORY_ADDED = "repository_added", "Repository added"
        REPOSITORY_DELETED = "repository_deleted", "Repository deleted"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    operator_username = models.CharField(max_length=255, blank=True, default="", help_text="Kept if the account is deleted.")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    client_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    reason = models.TextField(blank=True, default="")
    detail = models.JSONField(default=dict, blank=True, help_text='Identifiers only, e.g. {"from": "developer", "to": "public"} or {"repository": "shop", "job": 12}.')

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.operator_username}"
