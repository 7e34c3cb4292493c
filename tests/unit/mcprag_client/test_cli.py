"""The ``mcprag`` command line: help, usage errors, the not-logged-in message, argument typing, output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mcp_types import CallToolResult, ListToolsResult, TextContent

from mcprag_client import cli
from mcprag_client.cli import _parse_arguments, build_parser, main
from mcprag_client.display import search_table
from mcprag_client.errors import ClientError, ExitCode


@pytest.fixture(autouse=True)
def _config(monkeypatch, tmp_path):
    monkeypatch.setenv("MCPRAG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MCPRAG_TOKEN_STORE", "file")


def test_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for code in ExitCode:
        assert f"\n  {int(code)}  " in text, code
    for command in ("login", "logout", "status", "tools", "search", "call", "bridge"):
        assert command in text


def test_not_logged_in_is_one_line_and_exit_3(capsys):
    assert main(["search", "anything"]) == ExitCode.NOT_LOGGED_IN
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mcprag: not logged in") and "mcprag login" in err
    assert main(["tools", "--server", "https://mcp.example.com"]) == ExitCode.NOT_LOGGED_IN
    assert "mcprag login https://mcp.example.com/mcp" in capsys.readouterr().err


def test_a_bad_server_address_is_a_usage_error(capsys):
    assert main(["login", "ftp://mcp.example.com"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("mcprag: 'ftp://mcp.example.com' is not a server address")


def test_search_options_parse():
    args = build_parser().parse_args(["search", "parse dates", "--repo", "dateutil", "--lang", "python", "-n", "3", "--json"])
    assert (args.query, args.repo, args.lang, args.n, args.json) == ("parse dates", "dateutil", "python", 3, True)


SCHEMA = {"properties": {
    "query": {"type": "string"},
    "max_results": {"type": "integer"},
    "repository": {"anyOf": [{"type": "string"}, {"type": "null"}]},
}}


def test_call_arguments_are_typed_by_the_input_schema():
    arguments = _parse_arguments(["query=123", "max_results=3", "repository=null-island", "flag=true", "text=a=b"], SCHEMA)
    assert arguments == {"query": "123", "max_results": 3, "repository": "null-island", "flag": True, "text": "a=b"}
    assert _parse_arguments(["max_results=3"], None) == {"max_results": 3}
    with pytest.raises(ClientError, match="KEY=VALUE"):
        _parse_arguments(["novalue"], SCHEMA)


def test_search_results_read_as_a_table():
    text = search_table({"query": "easter", "hits": [
        {"repository": "dateutil", "path": "easter.py", "start_line": 16, "end_line": 89, "kind": "function",
         "symbol": "easter", "score": 39.3571},
    ]})
    header, columns, row = text.splitlines()
    assert header == "1 result(s) for 'easter':"
    assert columns.split() == ["#", "SCORE", "LOCATION", "KIND", "SYMBOL"]
    assert row.split() == ["1", "39.357", "dateutil:easter.py:16-89", "function", "easter"]
    assert search_table({"query": "nothing", "hits": []}) == "No code matched 'nothing'."


def test_call_takes_key_value_arguments_after_the_tool_as_well_as_with_arg():
    args = build_parser().parse_args(["call", "search_code", "query=token", "max_results=3", "--arg", "repository=shop"])
    assert (args.tool, args.pairs, args.arg) == ("search_code", ["query=token", "max_results=3"], ["repository=shop"])
    assert _parse_arguments([*args.pairs, *args.arg], SCHEMA) == {"query": "token", "max_results": 3, "repository": "shop"}


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """``mcprag search … --json | head -1``: once the reader has gone, no BrokenPipeError trace."""
    script = (
        "import sys, mcprag_client.cli as cli\n"
        "async def chatty(args, registry):\n"
        "    for n in range(200_000):\n"
        "        print('line', n)\n"
        "    return 0\n"
        "cli.cmd_status = chatty\n"
        "sys.exit(cli.main(['status']))\n"
    )
    env = {**os.environ, "MCPRAG_CONFIG_DIR": str(tmp_path / "config"), "MCPRAG_TOKEN_STORE": "file"}
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout.readline() == b"line 0\n"
    process.stdout.close()  # the reader goes away, as `head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_arg_takes_several_pairs_as_the_readme_shows(capsys):
    """``mcprag call TOOL --arg K=V K2=V2``: both pairs are arguments, not a usage error."""
    args = build_parser().parse_args(["call", "search_code", "--arg", "query=token", "max_results=3", "--arg", "repository=shop",
                                      "--json"])
    assert _parse_arguments([*args.pairs, *args.arg], SCHEMA) == {"query": "token", "max_results": 3, "repository": "shop"}
    assert args.json
    assert main(["call", "search_code", "--arg", "query=token", "max_results=3"]) == ExitCode.NOT_LOGGED_IN
    assert "unrecognized arguments" not in capsys.readouterr().err


@pytest.mark.parametrize("alias", ["http://localhost:8179", "http://[::1]:8179/mcp", "http://LOCALHOST:8179/mcp/"])
def test_a_login_to_127_0_0_1_is_found_under_another_loopback_name(tmp_path, capsys, alias):
    """The README: loopback names are the same server to every client. Port 8179: nothing listens."""
    import time

    from mcp.shared.auth import OAuthToken

    from mcprag_client.config import ServerRecord, ServerRegistry, config_dir
    from mcprag_client.credentials import FileTokenStore, StoredTokens

    url = "http://127.0.0.1:8179/mcp"
    ServerRegistry(config_dir()).save(ServerRecord(url=url, client_info={"client_id": "cli"}, token_store="file"))
    FileTokenStore(config_dir()).save(url, StoredTokens(OAuthToken(access_token="a", refresh_token="r", scope="code:read"),
                                                        time.time() + 600))
    assert main(["status", "--server", alias]) == ExitCode.SERVER_UNREACHABLE  # logged in; the server is down
    out = capsys.readouterr().out
    assert "Scopes:        code:read" in out and "(default)" in out
    assert main(["tools", "--server", alias]) == ExitCode.SERVER_UNREACHABLE
    assert main(["status", "--server", "http://localhost:8178"]) == ExitCode.NOT_LOGGED_IN  # another port: another server


@pytest.mark.parametrize("argv", [
    ["search", "easter", "-n", "0"],
    ["search", "easter", "-n", "51"],
    ["search", "easter", "-n", "ten"],
    ["call", "read_file", "badarg"],
    ["call", "read_file", "--arg", "=value"],
    ["login", "https://mcp.example.com", "--timeout", "-1"],
    ["login", "https://mcp.example.com", "--timeout", "0"],
    ["login", "https://mcp.example.com", "--timeout", "nan"],
])
def test_bad_values_are_a_bad_command_line_before_any_request(argv, capsys):
    """Exit 2, as the README's table says, with argparse's usage line, not 1 after a round trip
    (nothing is stored here: reaching the server would be "not logged in", exit 3)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: mcprag") and ("1 to 50" in err or "KEY=VALUE" in err or "positive number" in err), err
    assert build_parser().parse_args(["search", "easter", "-n", "50"]).n == 50
    assert build_parser().parse_args(["login", "https://mcp.example.com", "--timeout", "2.5"]).timeout == 2.5


#: The server's answer to a tool call the caller's tier never allows (mcp_gateway.server.refused_result).
TIER_REFUSAL = ("insufficient_scope: calling index_repository needs the 'index:admin' scope. "
                "Your tier (developer) does not allow it; ask an operator for a tier that does.")


class _Remote:
    """A server that answers every tool call with ``text`` as an error result."""

    text = TIER_REFUSAL

    def __init__(self, url, registry):
        pass

    async def run(self, fn):
        return await fn(self)

    async def list_tools(self):
        return ListToolsResult(tools=[])

    async def call_tool(self, name, arguments):
        return CallToolResult(content=[TextContent(type="text", text=self.text)], is_error=True)


def test_a_refusal_for_the_tier_exits_with_the_not_allowed_code(monkeypatch, capsys):
    monkeypatch.setattr(cli, "Remote", _Remote)
    server = ["--server", "https://mcp.example.com"]
    assert main(["call", "index_repository", "name=shop", *server]) == ExitCode.INSUFFICIENT_SCOPE
    assert TIER_REFUSAL in capsys.readouterr().out
    assert main(["search", "easter", *server]) == ExitCode.INSUFFICIENT_SCOPE
    assert capsys.readouterr().err == f"mcprag: {TIER_REFUSAL}\n"
    # Any other error result is still the tool's error: exit 1.
    monkeypatch.setattr(_Remote, "text", "read_file: no file 'x' in repository 'shop'.")
    assert main(["call", "read_file", "repository=shop", "path=x", *server]) == ExitCode.FAILURE
    assert main(["search", "easter", *server]) == ExitCode.FAILURE
