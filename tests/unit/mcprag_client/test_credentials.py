"""Token storage: the 0600 file, the keyring, and the choice between them."""

from __future__ import annotations

import os
import stat
import time

import pytest
from mcp.shared.auth import OAuthToken

from mcprag_client.credentials import FileTokenStore, KeyringTokenStore, StoredTokens, choose_token_store

URL = "https://mcp.example.com/mcp"


def _stored(access="a-token", refresh="r-token", expires_in=3600) -> StoredTokens:
    return StoredTokens.issued_now(OAuthToken(access_token=access, refresh_token=refresh, expires_in=expires_in, scope="code:read"))


def test_the_token_file_is_created_0600_in_a_0700_directory_whatever_the_umask(tmp_path):
    directory = tmp_path / "config" / "mcprag"
    old = os.umask(0)
    try:
        FileTokenStore(directory).save(URL, _stored())
    finally:
        os.umask(old)
    assert stat.S_IMODE((directory / "tokens.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    leftovers = [p.name for p in directory.iterdir() if p.name.startswith(".tokens.json.") and not p.name.endswith(".lock")]
    assert leftovers == []  # written through a temporary file, then renamed


def test_tokens_round_trip_with_their_absolute_expiry(tmp_path):
    store = FileTokenStore(tmp_path)
    stored = _stored(expires_in=600)
    assert time.time() + 590 < stored.expires_at <= time.time() + 600
    store.save(URL, stored)
    store.save("https://other.example/mcp", _stored("b-token"))
    loaded = store.load(URL)
    assert loaded == stored
    store.delete(URL)
    assert store.load(URL) is None
    assert store.load("https://other.example/mcp").tokens.access_token == "b-token"


def test_mcprag_token_store_file_forces_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("MCPRAG_TOKEN_STORE", "file")
    assert isinstance(choose_token_store(tmp_path), FileTokenStore)
    monkeypatch.setenv("MCPRAG_TOKEN_STORE", "sometimes")
    with pytest.raises(ValueError, match="auto, keyring or file"):
        choose_token_store(tmp_path)


def test_without_a_usable_keyring_auto_falls_back_to_the_file(monkeypatch, tmp_path):
    """No ``keyring`` package, or one whose only backend is the "fail" one (a headless machine)."""
    from mcprag_client.credentials import _usable_keyring

    if _usable_keyring() is not None:
        pytest.skip("this machine has a usable OS keyring; see the keyring test")
    monkeypatch.delenv("MCPRAG_TOKEN_STORE", raising=False)
    assert isinstance(choose_token_store(tmp_path), FileTokenStore)
    monkeypatch.setenv("MCPRAG_TOKEN_STORE", "keyring")
    with pytest.raises(ValueError, match="no usable OS keyring"):
        choose_token_store(tmp_path)


def test_the_keyring_is_used_when_it_has_a_backend(monkeypatch, tmp_path):
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        entries: dict = {}

        def get_password(self, service, username):
            return self.entries.get((service, username))

        def set_password(self, service, username, password):
            self.entries[(service, username)] = password

        def delete_password(self, service, username):
            self.entries.pop((service, username))

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        monkeypatch.delenv("MCPRAG_TOKEN_STORE", raising=False)
        store = choose_token_store(tmp_path)
        assert isinstance(store, KeyringTokenStore)
        store.save(URL, _stored())
        assert store.load(URL).tokens.access_token == "a-token"
        assert not (tmp_path / "tokens.json").exists()
        store.delete(URL)
        assert store.load(URL) is None
    finally:
        keyring.set_keyring(previous)
