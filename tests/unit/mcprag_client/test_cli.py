"""The ``mcprag`` command line: help, usage errors, the not-logged-in message, argument typing, output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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
