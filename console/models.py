"""What the console itself stores: the log of operator actions (tier changes, client disable/revoke,
re-indexes started, repositories added or deleted, people suspended …), from the console and the
operator API alike, and the hourly rollups of the tool-call audit trail that the overview reads
(:mod:`console.rollups` maintains them).

Auth events (:class:`oauth_app.models.AuthEvent`) and tool calls (:class:`mcp_gateway.models.ToolCall`)
stay where they are written; this log holds what an *operator* did and why (the reason they gave).
It never holds token material.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["OperatorAction", "ToolCallRollup", "AgentRollup", "RollupState"]


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
        PERSON_SUSPENDED = "person_suspended", "Person suspended"
        PERSON_REINSTATED = "person_reinstated", "Person reinstated"
        PERSON_SIGNED_OUT = "person_signed_out", "Person signed out everywhere"
        MFA_RESET = "mfa_reset", "Two-factor reset"
        TOKENS_REVOKED = "tokens_revoked", "All of a person's tokens revoked"

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


class ToolCallRollup(models.Model):
    """The tool calls of one hour for one tool and outcome: counts and a latency histogram. Days
    that ended more than two days ago are kept as one row per day (``hours == 24``).

    ``histogram`` maps a bucket index to a count (:mod:`console.rollups` defines the buckets: each
    is 4 % wider than the one before, so a percentile read from it is within 2 % of the exact one).
    """

    hour = models.DateTimeField(db_index=True, help_text="Start of the hour (or of the day, for a day's row).")
    hours = models.PositiveSmallIntegerField(default=1, help_text="1, or 24 for a whole day (local time zone) compacted.")
    tool = models.CharField(max_length=128)
    outcome = models.CharField(max_length=16)
    calls = models.PositiveIntegerField(default=0)
    duration_ms_sum = models.FloatField(default=0)
    duration_ms_min = models.FloatField(default=0)
    duration_ms_max = models.FloatField(default=0)
    histogram = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "tool", "outcome"], name="console_toolcallrollup_unique")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.tool} {self.outcome} ×{self.calls}"


class AgentRollup(models.Model):
    """The tool calls of one hour (or, once two days old, one day) by one agent for one person (``user_id`` None: a service
    client): counts only, for the overview's per-agent and per-person breakdown."""

    hour = models.DateTimeField(db_index=True, help_text="Start of the hour (or of the day, for a day's row).")
    hours = models.PositiveSmallIntegerField(default=1, help_text="1, or 24 for a whole day (local time zone) compacted.")
    client_id = models.CharField(max_length=255, blank=True, default="")
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The person's id, kept if the account is deleted.")
    username = models.CharField(max_length=255, blank=True, default="")
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.client_id} {self.username} ×{self.calls}"


class RollupState(models.Model):
    """How far the rollups reach: every tool call before ``until`` is counted in them."""

    key = models.CharField(max_length=32, primary_key=True)
    until = models.DateTimeField(null=True, blank=True)
