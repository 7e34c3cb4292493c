"""Audit retention: MCPRAG_AUDIT_RETENTION_DAYS, the purge function, its command and its Celery task."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from console import retention
from console.app_settings import app_settings
from mcp_gateway.models import ToolCall
from oauth_app import audit
from oauth_app.models import AuthEvent

from tests.support.tool_calls import days_ago, make_call

pytestmark = pytest.mark.django_db


def _event(age_days: int) -> AuthEvent:
    event = audit.record(AuthEvent.Kind.REGISTRATION, client_id=f"c{age_days}")
    AuthEvent.objects.filter(pk=event.pk).update(at=days_ago(age_days))
    return event


@pytest.fixture
def aged():
    for age in (1, 89, 91, 400):
        make_call(at=days_ago(age), client_id=f"c{age}")
        _event(age)


def test_default_retention_is_90_days():
    assert settings.MCPRAG_AUDIT_RETENTION_DAYS == 90 == app_settings.AUDIT_RETENTION_DAYS


def test_purge_deletes_only_rows_older_than_the_retention(aged):
    report = retention.purge_audit()
    assert (report.tool_calls, report.auth_events) == (2, 2)
    assert sorted(ToolCall.objects.values_list("client_id", flat=True)) == ["c1", "c89"]
    assert sorted(AuthEvent.objects.values_list("client_id", flat=True)) == ["c1", "c89"]


def test_purge_follows_the_setting(aged, settings):
    settings.MCPRAG_AUDIT_RETENTION_DAYS = 30
    assert retention.purge_audit().tool_calls == 3


def test_purge_works_in_batches(aged, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 1)
    assert retention.purge_audit(days=2).tool_calls == 3
    assert ToolCall.objects.count() == 1


@pytest.mark.parametrize("bad", [0, -5, "90", None, True])
def test_a_bad_setting_is_refused(settings, bad):
    settings.MCPRAG_AUDIT_RETENTION_DAYS = bad
    with pytest.raises(ImproperlyConfigured):
        app_settings.AUDIT_RETENTION_DAYS


def test_management_command_and_dry_run(aged):
    out = StringIO()
    call_command("purge_audit", "--dry-run", stdout=out)
    assert "Would delete 2 tool call(s) and 2 auth event(s)" in out.getvalue()
    assert ToolCall.objects.count() == 4
    call_command("purge_audit", "--days", "2", stdout=out)
    assert "Deleted 3 tool call(s) and 3 auth event(s)" in out.getvalue().splitlines()[-1]
    assert ToolCall.objects.count() == 1


def test_celery_task_is_registered_and_scheduled_daily(aged):
    from mcprag_site.celery import app

    app.loader.import_default_modules()
    assert "console.tasks.purge_audit" in app.tasks
    entry = settings.CELERY_BEAT_SCHEDULE["purge-audit"]
    assert entry["task"] == "console.tasks.purge_audit" and entry["schedule"] == 24 * 3600
    app.tasks["console.tasks.purge_audit"].apply()  # runs in-process, as a worker would
    assert ToolCall.objects.count() == 2
