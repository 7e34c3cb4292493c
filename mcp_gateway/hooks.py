"""``POST /hooks/git/<repository>/``: push webhooks from GitHub, GitLab, Gitea and Forgejo.

The HTTP edge only: method, body size and rates are checked here; ``codeindex`` verifies the
delivery (signature or token, in constant time), de-duplicates it and starts a sync
(``codeindex.webhooks``, whose docstring gives the rules). Answers are small JSON objects
``{"status": "...", "detail": "..."}`` with the status code that explains them: 202 sync
started, 200 answered and ignored (ping, other branch, replay), 401 not accepted (no such
repository, no webhook on it, or a wrong or missing signature or token: one answer for all
three, so names cannot be probed), 405, 413, 429 with ``Retry-After``.

Rate limits (``MCPRAG_RATE_LIMITS``): ``git_webhook`` counts **authentic** deliveries per
repository, so forged ones cannot spend a repository's budget and keep its real pushes out;
``git_webhook_failures`` counts refused deliveries per client address, and an address over it
is refused before any look-up. No counter is created for a name that does not exist or a
delivery that fails authentication, beyond the one per address.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from codeindex import services
from codeindex.webhooks import MAX_BODY_BYTES
from oauth_app.audit import client_ip
from oauth_app.ratelimit import over_limit, retry_after

__all__ = ["git_push_hook"]

log = logging.getLogger(__name__)


def _answer(status: int, detail: str, **headers) -> JsonResponse:
    word = {200: "ok", 202: "accepted", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
            413: "too_large", 429: "rate_limited"}.get(status, "error")
    response = JsonResponse({"status": word, "detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
def git_push_hook(request, repository: str):
    if request.method != "POST":
        return _answer(405, "send the webhook with POST", Allow="POST")
    address = client_ip(request) or "unknown"
    wait = over_limit("git_webhook_failures", address)
    if wait is not None:
        return _answer(429, "too many refused deliveries from this address; try again later", Retry_After=str(wait))
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return _answer(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    delivery = services.authenticate_webhook(repository, request.headers, request.body)
    if delivery is None:
        retry_after("git_webhook_failures", address)
        log.info("git webhook for %r refused (from %s)", repository[:100], address)
        return _answer(*services.WEBHOOK_REFUSED)
    wait = retry_after("git_webhook", delivery.repository.name)
    if wait is not None:
        return _answer(429, "too many deliveries for this repository; try again later", Retry_After=str(wait))
    status, detail = services.accept_webhook(delivery, request.headers, request.body)
    log.info("git webhook for %s: %s %s", delivery.repository.name, status, detail)
    return _answer(status, detail)
