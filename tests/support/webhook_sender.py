"""A local webhook sender: push deliveries shaped and signed the way GitHub, GitLab and
Gitea/Forgejo send them (headers, JSON payload, HMAC-SHA256 or token), posted to mcprag."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

__all__ = ["push_delivery"]


def push_delivery(provider: str, secret: str, *, ref: str = "refs/heads/main", after: str = "0" * 40, event: str | None = None,
                  delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` of one push delivery; ``secret`` signs it (GitHub, Gitea) or is sent (GitLab)."""
    delivery = delivery or str(uuid.uuid4())
    body = json.dumps({"ref": ref, "before": "1" * 40, "after": after, "repository": {"name": "shop"}}).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if provider == "github":
        headers = {"X-GitHub-Event": event or "push", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": f"sha256={digest}"}
    elif provider == "gitlab":
        headers = {"X-Gitlab-Event": event or "Push Hook", "X-Gitlab-Event-UUID": delivery, "X-Gitlab-Token": secret}
    elif provider == "gitea":
        headers = {"X-Gitea-Event": event or "push", "X-Gitea-Delivery": delivery, "X-Gitea-Signature": digest}
    elif provider == "forgejo":
        headers = {"X-Forgejo-Event": event or "push", "X-Forgejo-Delivery": delivery, "X-Forgejo-Signature": digest}
    else:
        raise ValueError(provider)
    return body, {"Content-Type": "application/json", "User-Agent": f"{provider}-hookshot-test", **headers}
