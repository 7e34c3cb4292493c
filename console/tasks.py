"""Celery tasks of the console. Each calls one function in one line."""

from __future__ import annotations

from celery import shared_task

from . import retention, rollups


@shared_task(name="console.tasks.purge_audit", ignore_result=True)
def purge_audit() -> dict:
    """Daily (Celery beat, ``CELERY_BEAT_SCHEDULE``): drop audit rows past the retention period."""
    report = retention.purge_audit()
    return {"tool_calls": report.tool_calls, "auth_events": report.auth_events}


@shared_task(name="console.tasks.rollup_audit", ignore_result=True)
def rollup_audit() -> None:
    """Every five minutes (Celery beat): fold closed hours of tool calls into the overview's rollups."""
    rollups.refresh()
