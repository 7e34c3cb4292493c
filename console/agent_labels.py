"""How the console names an agent: its name, a short client id, its redirect host and when it
registered, so two agents both called "Cursor" can be told apart in every list and export.

    labels = agents_by_client_id(["a1b2c3…", "svc-ci"])        # one query
    labels["a1b2c3…"].name, short_id("a1b2c3d4e5f6g7h8")        # ("Cursor", "a1b2c3d4")
    agent_label(labels.get(cid), cid)                            # 'Cursor (a1b2c3d4 · 127.0.0.1:33418 · 2025-05-01)'
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.db.models import Q
from oauth2_provider.models import get_application_model

__all__ = ["agents_by_client_id", "short_id", "redirect_host", "agent_label", "client_ids_named", "SHORT_ID_CHARS"]

#: Characters of a client id shown next to an agent's name.
SHORT_ID_CHARS = 8


def short_id(client_id: str) -> str:
    return client_id[:SHORT_ID_CHARS] + ("…" if len(client_id) > SHORT_ID_CHARS else "")


def redirect_host(application) -> str:
    """The host (and port) of the agent's first redirect URI, ``scheme:`` for a private-use scheme, "" for none."""
    for uri in (getattr(application, "redirect_uris", "") or "").split():
        parts = urlsplit(uri)
        return parts.netloc or f"{parts.scheme}:"
    return ""


def agents_by_client_id(client_ids: Iterable[str]) -> dict:
    """``{client_id: Application or None}`` for every non-empty id given (None: no such agent), in one query."""
    wanted = {cid for cid in client_ids if cid}
    if not wanted:
        return {}
    rows = get_application_model().objects.filter(client_id__in=wanted).only("id", "client_id", "name", "redirect_uris", "created")
    found = {app.client_id: app for app in rows}
    return {cid: found.get(cid) for cid in wanted}


def agent_label(application, client_id: str) -> str:
    """One line naming an agent for text (CSV): ``name (short id · redirect host · registration date)``."""
    if application is None:
        return client_id
    facts = [short_id(client_id), redirect_host(application), f"{application.created:%Y-%m-%d}" if application.created else ""]
    return f"{application.name or '(unnamed)'} ({' · '.join(f for f in facts if f)})"


def client_ids_named(text: str):
    """A ``Q`` on ``client_id`` matching agents whose name contains ``text`` or whose client id is ``text``."""
    named = get_application_model().objects.filter(name__icontains=text).values("client_id")
    return Q(client_id=text) | Q(client_id__in=named)
