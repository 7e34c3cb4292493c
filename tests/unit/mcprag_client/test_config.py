"""Where the client keeps its state, and how it names servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcprag_client.config import ServerRecord, ServerRegistry, config_dir, normalize_server_url


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("https://MCP.example.com", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com/", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com/mcp/", "https://mcp.example.com/mcp"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/mcp"),
        ("https://example.com/team/mcp", "https://example.com/team/mcp"),
    ],
)
def test_a_server_address_becomes_its_mcp_url(typed, url):
    assert normalize_server_url(typed) == url


@pytest.mark.parametrize("typed", ["mcp.example.com", "ftp://mcp.example.com", "https://h/mcp?x=1", "https://u:p@h/mcp", "https://h/#f"])
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        normalize_server_url(typed)


def test_config_dir_prefers_mcprag_config_dir_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("MCPRAG_CONFIG_DIR", raising=False)
    assert config_dir() == tmp_path / "home" / ".config" / "mcprag"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "mcprag"
    monkeypatch.setenv("MCPRAG_CONFIG_DIR", str(tmp_path / "explicit"))
    assert config_dir() == Path(tmp_path / "explicit")


def test_registry_remembers_servers_and_the_default(tmp_path):
    registry = ServerRegistry(tmp_path)
    assert registry.default() is None and registry.get("https://a/mcp").client_info is None
    registry.save(ServerRecord(url="https://a/mcp", client_info={"client_id": "one"}, token_store="file"))
    registry.save(ServerRecord(url="https://b/mcp"))
    assert registry.default() == "https://a/mcp"  # the first server saved
    registry.save(registry.get("https://b/mcp"), make_default=True)
    assert registry.default() == "https://b/mcp"
    assert registry.known() == ["https://a/mcp", "https://b/mcp"]
    again = ServerRegistry(tmp_path).get("https://a/mcp")
    assert again.client_info == {"client_id": "one"} and again.token_store == "file"


def test_loopback_names_with_the_same_port_and_path_are_the_same_server(tmp_path):
    registry = ServerRegistry(tmp_path)
    registry.save(ServerRecord(url="http://127.0.0.1:8141/mcp", client_info={"client_id": "one"}))
    found = registry.get("http://localhost:8141/mcp")
    assert found.url == "http://127.0.0.1:8141/mcp" and found.client_info == {"client_id": "one"}
    assert registry.get("http://[::1]:8141/mcp").client_info == {"client_id": "one"}
    for other in ("http://localhost:8142/mcp", "https://localhost:8141/mcp", "http://localhost:8141/other", "http://example.com:8141/mcp"):
        assert registry.get(other).client_info is None, other
