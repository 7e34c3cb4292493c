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


def test_unknown_repository_no_webhook_and_a_bad_signature_answer_alike(hooked):
    """A delivery without the secret cannot tell which repositories exist or have a webhook,
    group-restricted ones included."""
    _, secret = hooked
    Repository.objects.create(name="nosecret", root_path="", source_url="file:///nowhere")
    Repository.objects.create(name="skunkworks", root_path="", source_url="file:///nowhere", visibility="groups")
    services.new_webhook_secret("skunkworks")
    forged = push_delivery("github", "not-the-secret")
    answers = [_post(*forged, name=name) for name in ("nosuchrepo", "nosecret", "skunkworks", "shop")]
    assert {a.status_code for a in answers} == {401}
    assert all(a.json() == answers[0].json() for a in answers) and answers[0].json()["status"] == "unauthorized"
    assert not WebhookDelivery.objects.exists()


def _post_from(address, body, headers, name="shop"):
    return Client().post(f"/hooks/git/{name}/", data=body, content_type="application/json", REMOTE_ADDR=address,
                         headers={k: v for k, v in headers.items() if k != "Content-Type"})


def test_forged_deliveries_do_not_lock_out_real_ones(hooked):
    """A flood of forged deliveries is refused per sending address; the repository's own budget
    is spent only by authentic deliveries, so the forge's next real push still starts a sync."""
    remote, secret = hooked
    body, headers = push_delivery("github", secret)
    forged = {**headers, "X-Hub-Signature-256": "sha256=00"}
    codes = [_post_from("203.0.113.66", body, forged).status_code for _ in range(61)]
    assert codes[0] == 401 and codes[-1] == 429 and set(codes) == {401, 429}
    remote.commit("Real", {"billing/real.py": "z = 3\n"})
    real = _post_from("192.0.2.10", *push_delivery("github", secret, after=remote.push()))
    assert real.status_code == 202, real.content
    refused = _post_from("203.0.113.66", *push_delivery("github", secret, event="ping"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0  # that address waits, even signed


def test_only_authentic_deliveries_spend_a_repositorys_budget(hooked, settings):
    _, secret = hooked
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "git_webhook": (2, 60)}
    for n in range(5):
        assert _post_from(f"198.51.100.{n}", *push_delivery("github", secret + "-wrong")).status_code == 401
    pings = [_post_from("192.0.2.10", *push_delivery("github", secret, event="ping", after=f"{n:040x}")).status_code for n in range(3)]
    assert pings == [200, 200, 429]


def test_made_up_repository_names_do_not_evict_other_counters(hooked, settings):
    """Refused deliveries add no rate-limit counter per name: a flood of made-up names from one
    address cannot fill a small cache and push a repository's counter out of it."""
    _, secret = hooked
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "webhook-eviction",
                                   "OPTIONS": {"MAX_ENTRIES": 30, "CULL_FREQUENCY": 2}}}
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "git_webhook": (2, 60), "git_webhook_failures": (1000, 300)}
    spend = [_post(*push_delivery("github", secret, event="ping", after=f"{n:040x}")).status_code for n in range(3)]
    assert spend == [200, 200, 429]
    for n in range(100):
        assert _post_from("203.0.113.66", *push_delivery("github", "guess"), name=f"made-up-{n}").status_code in (401, 404)
    assert _post(*push_delivery("github", secret, event="ping", after="e" * 40)).status_code == 429


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


def _wait_for_the_sync(deadline_s=60):
    """Until a sync job has finished, or no job is left queued or running (none will then start)."""
    from codeindex.choices import ACTIVE_JOB_STATUSES, JobKind

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if IndexJob.objects.filter(kind=JobKind.SYNC, finished_at__isnull=False).exists():
            return
        if not IndexJob.objects.filter(status__in=ACTIVE_JOB_STATUSES).exists():
            return
        time.sleep(0.1)


def _assert_synced_by_a_second_job(head):
    sync = IndexJob.objects.filter(kind="sync").order_by("pk")
    assert [(j.status, j.requested_by) for j in sync] == [("complete", "push during an earlier job")], \
        [(j.pk, j.kind, j.status, j.message) for j in IndexJob.objects.order_by("pk")]
    repository = Repository.objects.get(name="shop")
    assert repository.indexed_commit == head and not repository.sync_requested
    found = services.search_page(services.SearchRequest("refund_pelican_order"), access=SYSTEM)
    assert found.hits and found.hits[0].path == "billing/refund.py"


def _push_during_an_index_job(remote, secret, *, when_pushed=lambda: None):
    """Re-index ``shop`` (the command line's job, in this thread); once the job has fetched its
    commit and reads files, commit and push a new file and deliver the push webhook. Returns the
    pushed commit and the webhook's answer."""
    pushed = []

    def push_while_the_job_runs(phase, done, total, path):
        if pushed:
            return
        remote.commit("Add refunds", {"billing/refund.py": "def refund_pelican_order(order):\n    return -order.total\n"})
        head = remote.push()
        pushed.append((head, _post(*push_delivery("github", secret, after=head))))
        when_pushed()

    services.index_repository(remote.url, "shop", progress=push_while_the_job_runs, embeddings="skip")
    head, answer = pushed[0]
    assert answer.status_code == 202 and answer.json()["detail"] == "a job is running; sync queued after it"
    return head


@pytest.mark.parametrize("sync_runs_on", ["the caller's thread", "the server's worker thread"])
def test_a_push_during_a_running_job_is_synced_once_that_job_ends(hooked, sync_runs_on):
    """The embedded default (no broker): a push delivered while an index job runs on the
    repository is answered "sync queued after it"; when that job ends, the job runner starts the
    sync, which indexes the pushed commit, whether the caller's thread or the server's own
    worker thread runs it."""
    from codeindex import worker

    remote, secret = hooked
    try:
        head = _push_during_an_index_job(remote, secret, when_pushed=(
            (lambda: worker.start()) if sync_runs_on == "the server's worker thread" else (lambda: None)))
        _wait_for_the_sync()
    finally:
        worker.stop()
    _assert_synced_by_a_second_job(head)


def test_a_queued_embeddings_job_does_not_hold_back_the_sync_a_push_asked_for(hooked):
    """An embeddings job may run beside an index job (the webhook starts a sync at once then), so
    one still queued when the index job ends does not delay the sync until it has run."""
    from codeindex.jobs import create_job

    remote, secret = hooked
    create_job(Repository.objects.get(name="shop"), "embeddings", remote.url, requested_by="left for the server")
    head = _push_during_an_index_job(remote, secret)
    _assert_synced_by_a_second_job(head)
    assert IndexJob.objects.get(kind="embeddings").status == "queued"


def test_a_push_during_a_job_whose_worker_was_lost_too_often_is_synced_when_it_fails(hooked):
    """A job failed at its claim (its worker was lost ``MAX_ATTEMPTS`` times) has ended too: the
    sync a push asked for meanwhile starts then."""
    from datetime import timedelta

    from django.utils import timezone

    from codeindex.jobs import ABANDONED_AFTER, MAX_ATTEMPTS, run_job

    remote, secret = hooked
    repository = Repository.objects.get(name="shop")
    job = IndexJob.objects.create(repository=repository, kind="full", source=remote.url, status="running",
                                  worker="another-host:1", attempts=MAX_ATTEMPTS, heartbeat_at=timezone.now())
    remote.commit("Add refunds", {"billing/refund.py": "def refund_pelican_order(order):\n    return -order.total\n"})
    head = remote.push()
    answer = _post(*push_delivery("github", secret, after=head))
    assert answer.status_code == 202 and answer.json()["detail"] == "a job is running; sync queued after it"
    IndexJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - ABANDONED_AFTER - timedelta(minutes=1))
    assert run_job(job.pk) is None  # what a redelivered task does: the claim fails the job
    assert IndexJob.objects.get(pk=job.pk).status == "failed"
    _assert_synced_by_a_second_job(head)
