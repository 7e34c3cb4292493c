"""Where the client keeps its state, and the non-secret part of it.

The directory is ``$MCPRAG_CONFIG_DIR`` if set, else ``$XDG_CONFIG_HOME/mcprag``, else
``~/.config/mcprag``. It holds ``servers.json`` (per server: the OAuth client registration, the
discovered metadata, where its tokens live; and which server is the default) and, when the OS
keyring is not available, ``tokens.json``. Both files are 0600.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .private_files import read_json, update_json

__all__ = ["ServerRecord", "ServerRegistry", "config_dir", "normalize_server_url", "same_server"]

SERVERS_FILE = "servers.json"


def config_dir() -> Path:
    explicit = os.environ.get("MCPRAG_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "mcprag"


def normalize_server_url(raw: str) -> str:
    """The MCP endpoint URL for what the user typed: ``https://host`` becomes ``https://host/mcp``.

    :raises ValueError: not an absolute http(s) URL, or it carries a query or fragment.
    """
    parts = urlsplit(raw.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{raw!r} is not a server address; expected e.g. https://mcp.example.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{raw!r}: give the server address without query, fragment or credentials")
    path = parts.path.rstrip("/") or "/mcp"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


#: Host names of this machine's loopback interface: "the same server to every client" (README).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def same_server(a: str, b: str) -> bool:
    """Whether two MCP URLs name the same server: equal, or loopback hosts (``localhost``,
    ``127.0.0.1``, ``[::1]``) with the same scheme, port and path."""
    return a == b or _server_key(a) == _server_key(b)


def _server_key(url: str) -> tuple:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return (url,)
    return (parts.scheme, "loopback" if host in LOOPBACK_HOSTS else host, port, parts.path.rstrip("/"))


@dataclass
class ServerRecord:
    """What the client remembers about one server (no token material)."""

    url: str
    client_info: dict[str, Any] | None = None
    oauth_metadata: dict[str, Any] | None = None
    protected_resource_metadata: dict[str, Any] | None = None
    token_store: str | None = None  # "keyring" or "file": where this server's tokens are

    @classmethod
    def from_json(cls, url: str, data: dict[str, Any]) -> ServerRecord:
        return cls(
            url=url,
            client_info=data.get("client_info"),
            oauth_metadata=data.get("oauth_metadata"),
            protected_resource_metadata=data.get("protected_resource_metadata"),
            token_store=data.get("token_store"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "client_info": self.client_info,
            "oauth_metadata": self.oauth_metadata,
            "protected_resource_metadata": self.protected_resource_metadata,
            "token_store": self.token_store,
        }


class ServerRegistry:
    """``servers.json``: the known servers and the default one."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory or config_dir()
        self.path = self.directory / SERVERS_FILE

    def get(self, url: str) -> ServerRecord:
        """The record of ``url``, or of the same server under another loopback name
        (:func:`same_server`; its ``url`` is then the one it was saved under, which keys its tokens)."""
        servers = read_json(self.path).get("servers", {})
        if url not in servers:
            url = next((known for known in servers if same_server(known, url)), url)
        return ServerRecord.from_json(url, servers.get(url) or {})

    def known(self) -> list[str]:
        return sorted(read_json(self.path).get("servers", {}))

    def default(self) -> str | None:
        return read_json(self.path).get("default")

    def save(self, record: ServerRecord, *, make_default: bool = False) -> None:
        def change(data: dict[str, Any]) -> None:
            data.setdefault("servers", {})[record.url] = record.to_json()
            if make_default or not data.get("default"):
                data["default"] = record.url

        update_json(self.path, change)

    def forget_client(self, url: str) -> None:
        """Drop the stored registration (used when it cannot be reused)."""
        record = self.get(url)
        record.client_info = None
        self.save(record)
