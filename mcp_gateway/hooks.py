"""``POST /hooks/git/<repository>/``: push webhooks from GitHub, GitLab, Gitea and Forgejo.

The HTTP edge only: method, body size and rate are checked here, then ``codeindex`` verifies the
delivery (signature or token, in constant time), de-duplicates it by its id and starts a sync
(``codeindex.webhooks.receive``, whose docstring gives the rules). Answers are small JSON
objects ``{"status": "...", "detail": "..."}`` with the status code that explains them:
202 sync started, 200 answered and ignored (ping, other branch, replay), 401 bad proof,
404 no webhook here, 405, 413, 429 with ``Retry-After``. Rate limit: ``git_webhook`` in
``MCPRAG_RATE_LIMITS``, per repository name (a flood of forged deliveries cannot keep a
repository's real pushes out for long, and never reaches the database beyond one look-up).
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from codeindex import services
from codeindex.webhooks import MAX_BODY_BYTES
from oauth_app.ratelimit import retry_after

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
    wait = retry_after("git_webhook", repository)
    if wait is not None:
        return _answer(429, "too many deliveries for this repository; try again later", Retry_After=str(wait))
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return _answer(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    status, detail = services.receive_webhook(repository, request.headers, request.body)
    log.info("git webhook for %s: %s %s", repository[:100], status, detail)
    return _answer(status, detail)
