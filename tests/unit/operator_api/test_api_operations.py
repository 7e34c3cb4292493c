"""The console's operations through the API: each write is the console's service function and
writes the same OperatorAction row; lists are filtered strictly and paged within bounds; every
error has the one JSON shape."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest
from django.utils import timezone

from console.models import OperatorAction
from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from oauth_app.models import AuthEvent
from oauth_app.scopes import tier_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(tmp_path, settings, eager_celery):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    root = tmp_path / "tiny"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "walrus.py").write_text("def compute_walrus_total(items):\n    return sum(items)\n")
    return root


def test_add_a_repository_from_a_path_under_the_roots_then_reindex_and_delete_it(api, source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits: run the job now
        created = api.post("/api/repositories/", {"name": "tiny", "source": str(source), "reason": "new service"})
    assert created.status_code == 202, created.content
    job = created.json()
    assert job["repository"] == "tiny" and job["status"] == "queued" and job["requested_by"] == "service:ci via api"
    assert api.get(f"/api/jobs/{job['id']}/").json()["status"] == "complete"
    listed = api.get("/api/repositories/").json()
    assert [r["name"] for r in listed["results"]] == ["tiny"] and listed["results"][0]["file_count"] == 1
    assert api.get("/api/repositories/tiny/").json()["last_job"]["id"] == job["id"]

    again = api.post("/api/repositories/", {"name": "tiny", "source": str(source)})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert again.json()["error_description"] == (f"A repository named 'tiny' is indexed already, from {source}; "
                                                 "re-index it from that source, or choose another name.")

    with django_capture_on_commit_callbacks(execute=True):
        reindexed = api.post("/api/repositories/tiny/reindex/")
    assert reindexed.status_code == 202 and reindexed.json()["id"] != job["id"]
    assert api.get(f"/api/jobs/{reindexed.json()['id']}/").json()["status"] == "complete"
    assert api.get("/api/jobs/", repository="tiny").json()["count"] == 2

    deleted = api.delete("/api/repositories/tiny/", {"reason": "retired"})
    assert deleted.status_code == 200 and deleted.json() == {"repository": "tiny", "files": 1}
    assert api.get("/api/repositories/tiny/").status_code == 404

    rows = list(OperatorAction.objects.order_by("id").values_list("kind", "operator_username", "reason"))
    assert rows == [("repository_added", "service:ci", "new service"), ("reindex_started", "service:ci", ""),
                    ("repository_deleted", "service:ci", "retired")]


def test_a_path_outside_the_roots_is_refused_and_nothing_is_recorded(api, source, tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path / "elsewhere")]
    response = api.post("/api/repositories/", {"name": "tiny", "source": str(source)})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and "MCPRAG_SOURCE_ROOTS" in body["error_description"]
    assert api.get("/api/repositories/").json()["count"] == 0 and not OperatorAction.objects.exists()


def test_a_git_url_to_a_private_address_is_refused(api, source):
    response = api.post("/api/repositories/", {"name": "shop", "source": "https://127.0.0.1/shop.git"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_missing_fields_are_named(api):
    response = api.post("/api/repositories/", {"name": "x"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"source": ["This field is required."]}


def test_unknown_repository_and_job_are_404(api):
    assert api.post("/api/repositories/nope/reindex/").json()["error"] == "not_found"
    assert api.delete("/api/repositories/nope/").status_code == 404
    assert api.get("/api/jobs/999999/").status_code == 404


def test_tier_change_needs_a_reason_and_writes_the_console_row(api, person):
    missing = api.post(f"/api/people/{person.pk}/tier/", {"tier": "public"})
    assert missing.status_code == 400 and set(missing.json()["fields"]) == {"reason"}
    same = api.post(f"/api/people/{person.pk}/tier/", {"tier": "developer", "reason": "x"})
    assert same.status_code == 400 and "already developer" in same.json()["error_description"]
    changed = api.post(f"/api/people/{person.pk}/tier/", {"tier": "public", "reason": "left the team"})
    assert changed.status_code == 200 and changed.json()["tier"] == "public"
    person.refresh_from_db()
    assert tier_of(person) == "public"
    row = OperatorAction.objects.get()
    assert (row.kind, row.person_id, row.reason, row.detail) == ("tier_changed", person.pk, "left the team",
                                                                 {"from": "developer", "to": "public"})
    assert row.operator is None and row.operator_username == "service:ci"


def test_a_persons_tier_change_records_the_person_as_operator(client, operator, person, person_token):
    token = person_token(operator)["access_token"]
    response = client.post(f"/api/people/{person.pk}/tier/", {"tier": "public", "reason": "moved"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert OperatorAction.objects.get().operator == operator


def test_people_filters_are_validated(api, person):
    assert [p["username"] for p in api.get("/api/people/", tier="developer").json()["results"]] == ["grace"]
    bad = api.get("/api/people/", tier="root")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"tier"}


def test_disable_and_revoke_an_agent_stop_its_tokens(api, client, person, public_client, obtain_code):
    from tests.support.oauth import REDIRECT_URI

    code, verifier, _ = obtain_code(public_client["client_id"])
    token = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                    "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    agent = next(a for a in api.get("/api/agents/").json()["results"] if a["client_id"] == public_client["client_id"])
    disabled = api.post(f"/api/agents/{agent['id']}/disable/", {"reason": "leaked"})
    assert disabled.status_code == 200 and disabled.json()["changed"] is True and disabled.json()["agent"]["disabled_at"]
    with pytest.raises(InvalidToken):
        verify_access_token(token["access_token"])
    assert api.post(f"/api/agents/{agent['id']}/disable/").json()["changed"] is False
    assert api.post(f"/api/agents/{agent['id']}/enable/").json()["changed"] is True
    revoked = api.post(f"/api/agents/{agent['id']}/revoke/", {"reason": "rotate"})
    assert revoked.json() == {"people": 1, "access_tokens": 1}
    with pytest.raises(InvalidToken):
        verify_access_token(token["access_token"])
    kinds = list(OperatorAction.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["client_disabled", "client_enabled", "client_revoked"]
    assert api.get("/api/audit/operator-actions/", kind="client_revoked").json()["results"][0]["reason"] == "rotate"


def test_audit_lists_are_cursor_paged_within_bounds_and_filters_are_validated(api, person):
    AuthEvent.objects.bulk_create([AuthEvent(kind="sign_in", user=person) for _ in range(230)])
    first = api.get("/api/audit/auth-events/", page_size=1000).json()
    assert len(first["results"]) == 200 and first["next"]
    assert api.get("/api/audit/auth-events/").json()["results"].__len__() == 50
    rest = api.get(first["next"].split("testserver")[-1].split("?")[0],
                   **dict(p.split("=", 1) for p in first["next"].split("?", 1)[1].split("&"))).json()
    assert len(rest["results"]) >= 30 and rest["next"] is None
    today = timezone.localdate().isoformat()
    assert api.get("/api/audit/auth-events/", person="grace", since=today).json()["results"]
    bad = api.get("/api/audit/tool-calls/", since="2025-13-45")
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_request", "error_description": "A filter is invalid.",
                                                     "fields": {"since": ["Enter a valid date."]}}
    assert api.get("/api/audit/auth-events/", cursor="garbage").status_code == 404


@pytest.mark.parametrize("path", ["/api/audit/tool-calls/", "/api/audit/auth-events/", "/api/audit/operator-actions/"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_a_date_past_the_last_day_is_a_filter_error(api, path, field):
    response = api.get(path, **{field: "9999-12-31"})
    assert response.status_code == 400 and response.json() == {
        "error": "invalid_request", "error_description": "A filter is invalid.",
        "fields": {field: ["Enter a date no later than 9999-12-30."]}}
    assert api.get(path, **{field: "9999-12-30"}).status_code == 200


@pytest.mark.parametrize("position", ["p=abc", "r=1&p=x", "p=9999-99-99", "p=\x00",
                                      "p=9999-12-31 23:00:00-05:00", "p=0001-01-01 00:00:00%2B05:00"])
def test_a_cursor_whose_position_is_not_a_time_is_an_invalid_cursor(api, person, position):
    AuthEvent.objects.bulk_create([AuthEvent(kind="sign_in", user=person) for _ in range(3)])
    cursor = base64.b64encode(position.encode()).decode()
    response = api.get("/api/audit/auth-events/", cursor=cursor)
    assert response.status_code == 404 and response.json() == {"error": "not_found", "error_description": "Invalid cursor"}


def test_a_cursor_from_a_next_link_still_pages(api, person):
    AuthEvent.objects.bulk_create([AuthEvent(kind="sign_in", user=person) for _ in range(3)])
    first = api.get("/api/audit/auth-events/", page_size=2).json()
    cursor = unquote(first["next"].split("cursor=")[1].split("&")[0])
    rest = api.get("/api/audit/auth-events/", page_size=2, cursor=cursor)
    assert rest.status_code == 200 and rest.json()["results"]
    assert not {r["at"] for r in rest.json()["results"]} & {r["at"] for r in first["results"]}
    previous = unquote(rest.json()["previous"].split("cursor=")[1].split("&")[0])
    assert api.get("/api/audit/auth-events/", page_size=2, cursor=previous).json()["results"] == first["results"]


def test_errors_have_one_shape(api):
    unknown = api.get("/api/nothing-here/")
    assert unknown.status_code == 404 and set(unknown.json()) == {"error", "error_description"}
    from django.test import Client

    posted = Client(enforce_csrf_checks=True).post("/api/agents/x/disable/", {}, content_type="application/json",
                                                   HTTP_AUTHORIZATION=f"Bearer {api.access_token}")
    assert posted.status_code == 404 and posted.json()["error"] == "not_found"  # not Django's CSRF page
    missing = api.get("/api/people/0/")
    assert missing.status_code == 404 and missing.json() == {"error": "not_found", "error_description": "No such object."}
    control = api.get("/api/people/", q="a\x00b")
    assert control.status_code == 400 and set(control.json()) == {"error", "error_description"}
    wrong_method = api.delete("/api/people/")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"

    not_json = Client().post("/api/repositories/", "name=x", content_type="application/x-www-form-urlencoded",
                             HTTP_AUTHORIZATION=f"Bearer {api.access_token}")
    assert not_json.status_code == 415 and not_json.json()["error"] == "unsupported_media_type"
    broken = Client().post("/api/repositories/", "{", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api.access_token}")
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
