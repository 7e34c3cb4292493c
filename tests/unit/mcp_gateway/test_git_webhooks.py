"""Push webhooks at ``POST /hooks/git/<repository>/``, sent the way each forge sends them by a
local sender to Django's full request stack, on a repository indexed from a real ``file://``
bare repository: a push to the indexed branch makes the changed file searchable (through the
SDK client) with its commit; a bad signature is a 401 that changes nothing; a replay is ignored;
other events and branches are answered and ignored; the secret is stored sealed."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client

from codeindex import services
from codeindex.access import SYSTEM
from codeindex.models import IndexJob, Repository, WebhookDelivery
from tests.support.git_repos import Remote
from tests.support.mcp_tools import READER, call, text_of
from tests.support.webhook_sender import push_delivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]

PUSH_TO_SEARCHABLE_BOUND_S = 20


@pytest.fixture
def hooked(tmp_path, settings):
    cache.clear()
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    remote = Remote(tmp_path / "shop", {"billing/tax.py": "def tax_for(amount, rate):\n    return amount * rate\n"})
    services.start_index_job(remote.url, "shop", access=SYSTEM)
    secret = services.new_webhook_secret("shop")
    return remote, secret


def _post(body, headers, name="shop"):
    return Client().post(f"/hooks/git/{name}/", data=body, content_type="application/json",
                         headers={k: v for k, v in headers.items() if k != "Content-Type"})


@pytest.mark.parametrize("provider", ["github", "gitlab", "gitea", "forgejo"])
def test_a_push_webhook_makes_the_change_searchable_with_its_commit(hooked, provider):
    remote, secret = hooked
    remote.commit("Add refunds", {"billing/refund.py": "def refund_pelican_order(order):\n    return -order.total\n"})
    head = remote.push()
    started = time.monotonic()
    response = _post(*push_delivery(provider, secret, after=head))
    assert response.status_code == 202, response.content
    found = call(READER, "search_code", {"query": "refund_pelican_order"})
    elapsed = time.monotonic() - started
    assert not found.is_error and found.structured_content["hits"][0]["path"] == "billing/refund.py"
    assert found.structured_content["hits"][0]["commit"] == head[:12] and f"shop@{head[:12]}" in text_of(found)
    assert elapsed < PUSH_TO_SEARCHABLE_BOUND_S
    delivery = WebhookDelivery.objects.get()
    assert delivery.provider in (provider, "gitea") and delivery.after == head and "started" in delivery.outcome


@pytest.mark.parametrize("provider", ["github", "gitlab", "gitea"])
def test_a_bad_signature_is_refused_and_nothing_happens(hooked, provider):
    remote, secret = hooked
    remote.commit("Sneaky", {"billing/sneaky.py": "def sneaky_otter():\n    pass\n"})
    remote.push()
    jobs = IndexJob.objects.count()
    response = _post(*push_delivery(provider, secret + "-wrong"))
    assert response.status_code == 401 and response.json()["status"] == "unauthorized"
    body, headers = push_delivery(provider, secret)
    headers = {k: v for k, v in headers.items() if "Signature" not in k and "Token" not in k}
    assert _post(body, headers).status_code == 401  # no proof at all
    assert IndexJob.objects.count() == jobs and not WebhookDelivery.objects.exists()
    assert Repository.objects.get(name="shop").indexed_commit != remote.head()


def test_a_replayed_delivery_is_ignored(hooked):
    remote, secret = hooked
    remote.commit("One", {"billing/one.py": "x = 1\n"})
    body, headers = push_delivery("github", secret, after=remote.push(), delivery="delivery-1")
    assert _post(body, headers).status_code == 202
    jobs = IndexJob.objects.count()
    replay = _post(body, headers)
    assert replay.status_code == 200 and "duplicate" in replay.json()["detail"]
    assert IndexJob.objects.count() == jobs and WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("provider", ["github", "gitlab", "gitea"])
def test_the_same_signed_body_under_a_new_delivery_id_or_none_is_a_duplicate(hooked, provider):
    """The delivery id is not signed: a captured push sent again with a new id, or without one,
    must not start a sync, even once the repository has moved past its commit."""
    remote, secret = hooked
    remote.commit("One", {"billing/one.py": "x = 1\n"})
    captured, headers = push_delivery(provider, secret, after=remote.push(), delivery="delivery-1")
    assert _post(captured, headers).status_code == 202
    remote.commit("Two", {"billing/two.py": "y = 2\n"})
    assert _post(*push_delivery(provider, secret, after=remote.push(), delivery="delivery-2")).status_code == 202
    jobs = IndexJob.objects.count()
    id_header = next(name for name in headers if "Delivery" in name or "UUID" in name)
    for replay in ({**headers, id_header: "delivery-3"}, {k: v for k, v in headers.items() if k != id_header}):
        answer = _post(captured, replay)
        assert answer.status_code == 200 and answer.json() == {"status": "ok", "detail": "duplicate delivery ignored"}
    assert IndexJob.objects.count() == jobs and WebhookDelivery.objects.count() == 2


def test_a_push_of_the_indexed_commit_starts_no_sync(hooked):
    remote, secret = hooked
    indexed = Repository.objects.get(name="shop").indexed_commit
    assert indexed == remote.head()
    jobs = IndexJob.objects.count()
    answer = _post(*push_delivery("github", secret, after=indexed))
    assert answer.status_code == 200 and "already the indexed commit" in answer.json()["detail"]
    assert IndexJob.objects.count() == jobs


def test_a_body_stays_a_duplicate_within_the_replay_window_however_many_came_after(hooked):
    from codeindex.webhooks import KEEP_DELIVERIES, REPLAY_WINDOW
    from django.utils import timezone

    remote, secret = hooked
    remote.commit("One", {"billing/one.py": "x = 1\n"})
    captured, headers = push_delivery("github", secret, after=remote.push())
    assert _post(captured, headers).status_code == 202
    for n in range(KEEP_DELIVERIES):  # more than the console keeps, all within the window
        assert _post(*push_delivery("github", secret, event="ping", after=f"{n:040x}")).status_code == 200
    remote.commit("Two", {"billing/two.py": "y = 2\n"})
    remote.push()
    jobs = IndexJob.objects.count()
    replay = _post(captured, {**headers, "X-GitHub-Delivery": "new-id"})
    assert replay.status_code == 200 and "duplicate" in replay.json()["detail"] and IndexJob.objects.count() == jobs
    # Past the window, only the newest KEEP_DELIVERIES stay.
    WebhookDelivery.objects.update(received_at=timezone.now() - REPLAY_WINDOW - REPLAY_WINDOW)
    _post(*push_delivery("github", secret, event="ping", after="f" * 40))
    assert WebhookDelivery.objects.count() == KEEP_DELIVERIES


def test_other_events_and_branches_are_answered_and_ignored(hooked):
    _, secret = hooked
    jobs = IndexJob.objects.count()
    ping = _post(*push_delivery("github", secret, event="ping"))
    other = _post(*push_delivery("github", secret, ref="refs/heads/feature"))
    tag = _post(*push_delivery("gitlab", secret, ref="refs/tags/v1"))
    assert [r.status_code for r in (ping, other, tag)] == [200, 200, 200]
    assert "not a push" in ping.json()["detail"] and "not the indexed branch" in other.json()["detail"]
    assert IndexJob.objects.count() == jobs


def test_unknown_repository_and_no_secret_answer_alike(hooked, tmp_path):
    _, secret = hooked
    Repository.objects.create(name="nosecret", root_path="", source_url="file:///nowhere")
    unknown = _post(*push_delivery("github", secret), name="nosuchrepo")
    no_secret = _post(*push_delivery("github", secret), name="nosecret")
    assert unknown.status_code == no_secret.status_code == 404 and unknown.json() == no_secret.json()


def test_the_secret_is_stored_sealed_and_get_is_refused(hooked):
    _, secret = hooked
    row = Repository.objects.get(name="shop")
    assert secret not in row.webhook_secret_sealed and row.webhook_secret_sealed
    assert Client().get("/hooks/git/shop/").status_code == 405


def test_deliveries_are_rate_limited_per_repository(hooked, settings):
    _, secret = hooked
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "git_webhook": (3, 60)}
    codes = [_post(*push_delivery("github", secret, event="ping")).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
