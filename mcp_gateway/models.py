"""The audit row written for every tool call, on every transport. It never holds token material,
arguments or results — only a digest and sizes of the arguments and the size of the result."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ToolCall(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        ERROR = "error", "Tool error"
        REFUSED = "refused", "Refused (permissions)"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=255, blank=True, default="")
    client_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    tool = models.CharField(max_length=128, db_index=True)
    transport = models.CharField(max_length=32, default="streamable_http")
    arguments_sha256 = models.CharField(max_length=64, blank=True, default="")
    arguments_bytes = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_class = models.CharField(max_length=128, blank=True, default="")
    duration_ms = models.FloatField(default=0)
    result_bytes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["tool", "at"]), models.Index(fields=["outcome", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.tool} {self.outcome}"
