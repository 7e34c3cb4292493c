"""Audit browser: filters by person, agent, tool, outcome and time; pagination; CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from console.exports import safe_cell
from console.views.base import PAGE_SIZE
from oauth_app import audit
from oauth_app.models import AuthEvent

from tests.support.tool_calls import days_ago, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(person):
    make_call(tool="search_code", user=person, client_id="agent-a", at=days_ago(1))
    make_call(tool="index_status", outcome="error", user=person, client_id="agent-b", at=days_ago(2))
    make_call(tool="search_code", outcome="refused", client_id="agent-b", at=days_ago(10))


def _tools(response):
    return [(c.tool, c.outcome, c.client_id) for c in response.context["object_list"]]


@pytest.mark.parametrize(("query", "expected"), [
    ({}, [("search_code", "ok", "agent-a"), ("index_status", "error", "agent-b"), ("search_code", "refused", "agent-b")]),
    ({"person": "GRACE"}, [("search_code", "ok", "agent-a"), ("index_status", "error", "agent-b")]),
    ({"client": "agent-b"}, [("index_status", "error", "agent-b"), ("search_code", "refused", "agent-b")]),
    ({"tool": "search_code", "outcome": "refused"}, [("search_code", "refused", "agent-b")]),
    ({"since": "{d5}"}, [("search_code", "ok", "agent-a"), ("index_status", "error", "agent-b")]),
    ({"until": "{d5}"}, [("search_code", "refused", "agent-b")]),
])
def test_tool_call_filters(operator_client, trail, query, expected):
    day = days_ago(5).date().isoformat()
    query = {k: v.replace("{d5}", day) for k, v in query.items()}
    assert _tools(operator_client.get(reverse("console:toolcall-list"), query)) == expected


def test_tool_calls_are_paginated(operator_client, person):
    for _ in range(PAGE_SIZE + 3):
        make_call(user=person)
    first = operator_client.get(reverse("console:toolcall-list"))
    assert len(first.context["object_list"]) == PAGE_SIZE
    second = operator_client.get(reverse("console:toolcall-list"), {"page": 2, "person": "grace"})
    assert len(second.context["object_list"]) == 3
    assert 'href="?page=1&amp;person=grace"' in second.content.decode()


def test_tool_call_csv_export_uses_the_same_filters(operator_client, trail):
    response = operator_client.get(reverse("console:toolcall-export"), {"client": "agent-b"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["tool"], r["outcome"]) for r in rows] == [("index_status", "error"), ("search_code", "refused")]
    assert rows[0]["username"] == "grace" and rows[0]["client_id"] == "agent-b"


def test_auth_event_filters_and_export(operator_client, person):
    audit.record(AuthEvent.Kind.CONSENT_DENIED, user=person, client_id="agent-a", error="access_denied")
    audit.record(AuthEvent.Kind.REGISTRATION, client_id="agent-b", client_name="=HYPERLINK(\"http://evil\")")
    kinds = lambda r: [e.kind for e in r.context["object_list"]]  # noqa: E731
    assert kinds(operator_client.get(reverse("console:authevent-list"), {"outcome": "error"})) == ["consent_denied"]
    assert kinds(operator_client.get(reverse("console:authevent-list"), {"client": "agent-b"})) == ["registration"]
    response = operator_client.get(reverse("console:authevent-export"), {"kind": "registration"})
    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["kind"] == "registration" and row["client_id"] == "agent-b"
    assert row["detail"].startswith('{"client_name"')  # JSON, not a formula


def test_csv_cells_never_start_a_formula():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2") == "'-2"
    assert safe_cell("search_code") == "search_code"
    assert safe_cell(None) == ""


def test_operator_actions_tab(operator_client, operator, person):
    operator_client.post(reverse("console:person-tier", kwargs={"pk": person.pk}), {"tier": "admin", "reason": "on call"})
    response = operator_client.get(reverse("console:operatoraction-list"), {"person": "grace"})
    assert [a.kind for a in response.context["object_list"]] == ["tier_changed"]
    assert "developer → admin" in response.content.decode()
    export = b"".join(operator_client.get(reverse("console:operatoraction-export")).streaming_content).decode()
    assert "on call" in export and "olga" in export


def test_agents_are_named_and_found_by_name(operator_client, person, register):
    """Two agents both called "Cursor": each row shows name, short id, redirect host and registration
    date; the Agent filter finds them by name; the CSV has the name column."""
    first = register(client_name="Cursor", redirect_uris=["http://127.0.0.1:4000/cb"]).json()["client_id"]
    second = register(client_name="Cursor", redirect_uris=["https://cursor.example/cb"]).json()["client_id"]
    make_call(tool="search_code", user=person, client_id=first)
    make_call(tool="read_file", user=person, client_id=second)
    make_call(tool="grep", user=person, client_id="someone-else")
    response = operator_client.get(reverse("console:toolcall-list"), {"client": "curs"})
    assert sorted(c.tool for c in response.context["object_list"]) == ["read_file", "search_code"]
    html = response.content.decode()
    today = timezone.localdate().isoformat()
    for client_id, host in ((first, "127.0.0.1:4000"), (second, "cursor.example")):
        assert f'title="{client_id}">{client_id[:8]}…</code> · <span title="Redirect host">{host}</span>' in html
    assert html.count(f">{today}</span>") >= 2 and html.count(">Cursor</a>") == 2
    export = b"".join(operator_client.get(reverse("console:toolcall-export"), {"client": "Cursor"}).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(export)))
    assert {r["agent"] for r in rows} == {f"Cursor ({first[:8]}… · 127.0.0.1:4000 · {today})",
                                          f"Cursor ({second[:8]}… · cursor.example · {today})"}


@pytest.mark.parametrize("view", ["console:toolcall-list", "console:authevent-list", "console:operatoraction-list"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_a_date_past_the_last_day_is_a_filter_error(operator_client, trail, view, field):
    response = operator_client.get(reverse(view), {field: "9999-12-31"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html and "Enter a date no later than 9999-12-30." in html
    assert operator_client.get(reverse(view), {field: "9999-12-30"}).status_code == 200  # the last day still works


@pytest.mark.parametrize("export", ["console:toolcall-export", "console:authevent-export", "console:operatoraction-export"])
def test_an_export_with_an_invalid_filter_exports_nothing_and_says_why(operator_client, trail, export):
    """The list page shows invalid filters as not applied; the download held every row instead."""
    for query, field in (({"until": "9999-12-31"}, "until"), ({"since": "2025-13-45"}, "since")):
        response = operator_client.get(reverse(export), query)
        assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
        assert f"nothing was exported: {field}:" in response.content.decode()
    valid = operator_client.get(reverse(export), {"since": "2025-01-01"})
    assert valid.status_code == 200 and valid["Content-Type"].startswith("text/csv")
    b"".join(valid.streaming_content)
