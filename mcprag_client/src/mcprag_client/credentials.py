"""Token storage: the OS keyring when one is available, else ``tokens.json`` (0600) in the
config directory. ``MCPRAG_TOKEN_STORE`` = ``auto`` (default), ``keyring`` or ``file`` overrides
the choice.

A stored login is the RFC 6749 §5.1 token response plus ``expires_at`` (absolute time), so a new
process knows whether the access token is still fresh and refreshes it before use.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mcp.shared.auth import OAuthToken

from .private_files import read_json, update_json

__all__ = ["StoredTokens", "TokenStore", "FileTokenStore", "KeyringTokenStore", "token_store_for", "choose_token_store"]

TOKENS_FILE = "tokens.json"
KEYRING_SERVICE = "mcprag"
FILE, KEYRING = "file", "keyring"


@dataclass(frozen=True)
class StoredTokens:
    tokens: OAuthToken
    expires_at: float | None  # epoch seconds; None = the server gave no lifetime

    @classmethod
    def issued_now(cls, tokens: OAuthToken) -> StoredTokens:
        expires_at = time.time() + int(tokens.expires_in) if tokens.expires_in is not None else None
        return cls(tokens=tokens, expires_at=expires_at)

    def to_json(self) -> dict[str, Any]:
        return {"tokens": self.tokens.model_dump(mode="json", exclude_none=True), "expires_at": self.expires_at}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> StoredTokens | None:
        if not data or "tokens" not in data:
            return None
        return cls(tokens=OAuthToken.model_validate(data["tokens"]), expires_at=data.get("expires_at"))


class TokenStore(Protocol):
    kind: str

    def load(self, url: str) -> StoredTokens | None: ...
    def save(self, url: str, stored: StoredTokens) -> None: ...
    def delete(self, url: str) -> None: ...
    def describe(self) -> str: ...


class FileTokenStore:
    """``tokens.json``: ``{server url: {"tokens": {...}, "expires_at": …}}``, mode 0600."""

    kind = FILE

    def __init__(self, directory: Path):
        self.path = directory / TOKENS_FILE

    def load(self, url: str) -> StoredTokens | None:
        return StoredTokens.from_json(read_json(self.path).get(url))

    def save(self, url: str, stored: StoredTokens) -> None:
        update_json(self.path, lambda data: data.__setitem__(url, stored.to_json()))

    def delete(self, url: str) -> None:
        if self.path.exists():
            update_json(self.path, lambda data: data.pop(url, None))

    def describe(self) -> str:
        return f"in the file {self.path} (readable only by you)"


class KeyringTokenStore:
    """The OS keyring (macOS Keychain, Windows Credential Locker, Secret Service): service
    ``mcprag``, one entry per server URL."""

    kind = KEYRING

    def __init__(self, keyring_module):
        self._keyring = keyring_module

    def load(self, url: str) -> StoredTokens | None:
        raw = self._keyring.get_password(KEYRING_SERVICE, url)
        return StoredTokens.from_json(json.loads(raw)) if raw else None

    def save(self, url: str, stored: StoredTokens) -> None:
        self._keyring.set_password(KEYRING_SERVICE, url, json.dumps(stored.to_json()))

    def delete(self, url: str) -> None:
        try:
            self._keyring.delete_password(KEYRING_SERVICE, url)
        except self._keyring.errors.PasswordDeleteError:
            pass

    def describe(self) -> str:
        return f"in the OS keyring (service {KEYRING_SERVICE!r})"


def _usable_keyring():
    """The ``keyring`` module if it is installed and has a real backend, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration means "no keyring", never a crash
        return None
    if isinstance(backend, fail.Keyring) or (isinstance(backend, chainer.ChainerBackend) and not backend.backends):
        return None
    if type(backend).__module__.startswith("keyring.backends.null"):
        return None
    return keyring


def choose_token_store(directory: Path) -> TokenStore:
    """The store for a new login: ``MCPRAG_TOKEN_STORE``, else the keyring when usable, else the file."""
    preference = os.environ.get("MCPRAG_TOKEN_STORE", "auto").strip().lower()
    if preference not in ("auto", FILE, KEYRING):
        raise ValueError(f"MCPRAG_TOKEN_STORE must be auto, keyring or file, not {preference!r}")
    if preference != FILE:
        keyring = _usable_keyring()
        if keyring is not None:
            return KeyringTokenStore(keyring)
        if preference == KEYRING:
            raise ValueError("MCPRAG_TOKEN_STORE=keyring but no usable OS keyring (pip install 'mcprag-client[keyring]')")
    return FileTokenStore(directory)


def token_store_for(kind: str | None, directory: Path) -> TokenStore:
    """The store a server's tokens were saved in (recorded in ``servers.json``)."""
    if kind == KEYRING:
        keyring = _usable_keyring()
        if keyring is None:
            raise ValueError("this login's tokens are in the OS keyring, which is not available now")
        return KeyringTokenStore(keyring)
    return FileTokenStore(directory)
