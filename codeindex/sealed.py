"""Repository secrets at rest: webhook secrets, HTTPS tokens and SSH deploy keys.

Sealed with Fernet (AES-128-CBC + HMAC-SHA256, the ``cryptography`` package) under a key derived
from ``SECRET_KEY`` with its own label, the way the OAuth signing keys are kept, so a database dump
alone discloses none of them. ``open_sealed`` returns "" for a value sealed under another
``SECRET_KEY`` (the secret must then be set again), never raising into a request.

    sealed = seal("s3cr3t")          # "gAAAAAB…" (text, for a TextField)
    open_sealed(sealed)              # "s3cr3t"
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["seal", "open_sealed"]


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"mcprag-repository-secret:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plain: str) -> str:
    """``plain`` encrypted and authenticated, as text; "" stays ""."""
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def open_sealed(sealed: str) -> str:
    """The plain text of ``seal``'s output; "" when empty or sealed under another key."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
