"""The ``mcprag`` command: sign in to a remote mcprag, search code, call tools, bridge to stdio."""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import sys
import time
from typing import Any

import anyio

from . import __version__
from .config import ServerRegistry, normalize_server_url
from .credentials import token_store_for
from .display import as_json, search_table, tool_result_text, tools_table
from .errors import EXIT_CODE_HELP, ClientError, ExitCode, NotAllowed, NotLoggedIn, ToolFailed, UsageError
from .session import Remote, login, logout

__all__ = ["build_parser", "main"]

DESCRIPTION = """\
Command-line client for a remote mcprag server (MCP over Streamable HTTP with OAuth 2.1).

  mcprag login https://mcp.example.com     sign in once in the browser; tokens are kept and refreshed
  mcprag search "parse an HTTP date"        search the indexed code
  mcprag bridge https://mcp.example.com/mcp serve it on stdio, for agents that only speak stdio

Tokens are kept in the OS keyring when one is available (pip install 'mcprag-client[keyring]'),
else in a file readable only by you under $MCPRAG_CONFIG_DIR, $XDG_CONFIG_HOME/mcprag or
~/.config/mcprag. MCPRAG_TOKEN_STORE=auto|keyring|file overrides the choice."""


def _normalize(raw: str) -> str:
    try:
        return normalize_server_url(raw)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _server_url(args, registry: ServerRegistry) -> str:
    if getattr(args, "server", None):
        return _normalize(args.server)
    default = registry.default()
    if default is None:
        raise NotLoggedIn(None)
    return default


def _results_wanted(raw: str) -> int:
    """``search -n``: what the search_code tool accepts, checked before any request."""
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 50, got {raw!r}")
    return value


def _seconds(raw: str) -> float:
    """``login --timeout``: a positive number of seconds."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {raw!r}")
    return value


def _key_value(raw: str) -> str:
    """A tool argument on the command line: KEY=VALUE."""
    key, sep, _ = raw.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"tool arguments are KEY=VALUE (e.g. query=token), got {raw!r}")
    return raw


#: How the server begins the error result of a tool call it refuses for want of a scope that
#: signing in again cannot give (the tier never allows it; mcp_gateway.server.refused_result).
#: A refusal a new sign-in can lift comes as a 403 challenge instead (errors.InsufficientScope).
_REFUSAL = "insufficient_scope:"


def _refused(result) -> bool:
    return bool(result.is_error) and tool_result_text(result).lstrip().startswith(_REFUSAL)


def _print(text: str) -> None:
    print(text, flush=True)


async def cmd_login(args, registry: ServerRegistry) -> int:
    url = _normalize(args.url)
    result = await login(url, registry, open_browser=not args.no_browser, client_metadata_url=args.client_metadata_url,
                         timeout=args.timeout, new_client=args.new_client, scope=" ".join(args.scope) or None)
    _print(f"Logged in to {result.url} (scopes: {result.scope or 'none'}; {result.tool_count} tool(s) available).")
    _print(f"Tokens are kept {result.storage} and refreshed automatically.")
    return ExitCode.OK


async def cmd_logout(args, registry: ServerRegistry) -> int:
    url = _server_url(args, registry)
    problems = await logout(url, registry)
    if problems:
        print(f"mcprag: deleted the local tokens for {url}, but: {'; '.join(problems)}", file=sys.stderr)
        return ExitCode.FAILURE
    _print(f"Logged out of {url}: the tokens were revoked at the server and deleted here.")
    return ExitCode.OK


async def cmd_tools(args, registry: ServerRegistry) -> int:
    remote = Remote(_server_url(args, registry), registry)
    listing = await remote.run(lambda client: client.list_tools())
    _print(as_json([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listing.tools])
           if args.json else tools_table(listing.tools))
    return ExitCode.OK


async def cmd_search(args, registry: ServerRegistry) -> int:
    remote = Remote(_server_url(args, registry), registry)
    arguments: dict[str, Any] = {"query": args.query, "max_results": args.n}
    if args.repo:
        arguments["repository"] = args.repo
    if args.lang:
        arguments["language"] = args.lang
    result = await remote.run(lambda client: client.call_tool("search_code", arguments))
    if result.is_error:
        raise (NotAllowed if _refused(result) else ToolFailed)(tool_result_text(result).strip())
    structured = result.structured_content or {}
    _print(as_json(structured) if args.json else search_table(structured, args.query))
    return ExitCode.OK


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A ``--arg`` value typed by the tool's input schema: strings stay strings, the rest is JSON."""
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    for option in schema.get("anyOf", []) if isinstance(schema.get("anyOf"), list) else []:
        kinds.add(option.get("type"))
    if "string" in kinds and not kinds & {"integer", "number", "boolean", "array", "object"}:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_arguments(pairs: list[str], input_schema: dict[str, Any] | None) -> dict[str, Any]:
    properties = (input_schema or {}).get("properties", {})
    arguments = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"tool arguments are KEY=VALUE (e.g. query=token), got {pair!r}")
        arguments[key] = _coerce(value, properties.get(key, {}))
    return arguments


async def cmd_call(args, registry: ServerRegistry) -> int:
    remote = Remote(_server_url(args, registry), registry)

    async def call(client):
        listed = {t.name: t for t in (await client.list_tools()).tools}
        schema = listed[args.tool].input_schema if args.tool in listed else None
        return await client.call_tool(args.tool, _parse_arguments([*args.pairs, *args.arg], schema))

    result = await remote.run(call)
    if args.json:
        _print(as_json(result))
    else:
        _print(tool_result_text(result))
    if _refused(result):
        return ExitCode.INSUFFICIENT_SCOPE
    return ExitCode.FAILURE if result.is_error else ExitCode.OK


def _describe_expiry(expires_at: float | None) -> str:
    if expires_at is None:
        return "no expiry given by the server"
    left = expires_at - time.time()
    if left <= 0:
        return "expired; it is refreshed on the next call"
    return f"valid for {int(left // 60)} min {int(left % 60)} s"


async def _server_check(url: str, registry: ServerRegistry) -> tuple[dict[str, Any] | str, ClientError | None]:
    """The ``health_check`` tool's answer, or the error that prevented it."""
    try:
        health = await Remote(url, registry).run(lambda client: client.call_tool("health_check", {}))
    except ClientError as exc:
        return str(exc), exc
    return ((health.structured_content or {}) if not health.is_error else tool_result_text(health)), None


async def cmd_status(args, registry: ServerRegistry) -> int:
    url = _server_url(args, registry)
    record = registry.get(url)
    store = token_store_for(record.token_store, registry.directory)
    stored = store.load(record.url)  # record.url: the name the login was saved under (a loopback alias)
    if stored is None:
        raise NotLoggedIn(url)
    check, error = await _server_check(url, registry)
    report: dict[str, Any] = {
        "server": url,
        "default": registry.default() == record.url,
        "person": check.get("signed_in_as") if isinstance(check, dict) else None,
        "tier": check.get("tier") if isinstance(check, dict) else None,
        "client_id": (record.client_info or {}).get("client_id"),
        "scopes": stored.tokens.scope,
        "access_token": _describe_expiry(stored.expires_at),
        "refresh_token": "stored" if stored.tokens.refresh_token else "none",
        "tokens_kept": store.describe(),
        "other_servers": [u for u in registry.known() if u != record.url],
        "server_check": check,
    }
    if args.json:
        _print(as_json(report))
    else:
        _print(_status_text(report, error))
    return int(error.exit_code) if error else ExitCode.OK


def _status_text(report: dict[str, Any], error: ClientError | None) -> str:
    check = report["server_check"]
    if error is not None:
        summary = f"failed: {check}"
    elif isinstance(check, dict):
        summary = f"reachable; status {check.get('status')}, {check.get('repositories')} repository(ies) indexed"
    else:
        summary = f"reachable; health check said: {check}"
    lines = [
        ("Server", report["server"] + (" (default)" if report["default"] else "")),
        ("Signed in", (f"yes, as {report['person']}" + (f" (tier {report['tier']})" if report["tier"] else "")
                       if report["person"] else "yes")),
        ("Agent", f"client {report['client_id']}"),
        ("Scopes", report["scopes"] or "none"),
        ("Access token", report["access_token"]),
        ("Refresh token", report["refresh_token"]),
        ("Tokens kept", report["tokens_kept"]),
        ("Server check", summary),
    ] + ([("Other servers", ", ".join(report["other_servers"]))] if report["other_servers"] else [])
    return "\n".join(f"{label + ':':<15}{value}" for label, value in lines)


async def cmd_bridge(args, registry: ServerRegistry) -> int:
    from .bridge import serve_bridge

    url = _normalize(args.url) if args.url else _server_url(args, registry)
    await serve_bridge(url, registry)
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcprag", description=DESCRIPTION, epilog=EXIT_CODE_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mcprag-client {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the SDK's diagnostics to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str, *, server: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=EXIT_CODE_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(handler=handler)
        if server:
            sub.add_argument("--server", metavar="URL", help="the server (default: the one you logged in to last)")
        return sub

    sub = command("login", cmd_login, "Sign in to a server in the browser (OAuth 2.1 with PKCE).", server=False)
    sub.add_argument("url", metavar="URL", help="the server, e.g. https://mcp.example.com (or its /mcp URL)")
    sub.add_argument("--no-browser", action="store_true", help="print the sign-in URL instead of opening a browser")
    sub.add_argument("--client-metadata-url", metavar="URL",
                     help="an https URL of this client's metadata document, used instead of registration "
                          "when the server supports client ID metadata documents")
    sub.add_argument("--timeout", type=_seconds, default=300.0, metavar="SECONDS", help="how long to wait for the browser")
    sub.add_argument("--new-client", action="store_true", help="register anew instead of reusing the stored client")
    sub.add_argument("--scope", action="append", default=[], metavar="SCOPES",
                     help="scopes to ask for besides code:read, e.g. --scope code:write or --scope 'code:write index:admin' "
                          "(you get what your tier allows; log in again with more to widen a login)")

    command("logout", cmd_logout, "Revoke the stored tokens at the server and delete them here.")
    sub = command("status", cmd_status, "Show the stored login and check the server.")
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub = command("tools", cmd_tools, "List the tools this login may call.")
    sub.add_argument("--json", action="store_true", help="print the tool definitions as JSON")

    sub = command("search", cmd_search, "Search the indexed code (the search_code tool).")
    sub.add_argument("query", metavar="QUERY", help="plain words or identifiers")
    sub.add_argument("--repo", metavar="R", help="only this repository")
    sub.add_argument("--lang", metavar="L", help="only this language, e.g. python")
    sub.add_argument("-n", type=_results_wanted, default=10, metavar="N", help="how many results (1-50, default 10)")
    sub.add_argument("--json", action="store_true", help="print the structured result as JSON")

    sub = command("call", cmd_call, "Call any tool with KEY=VALUE arguments, e.g. mcprag call search_code query=token.")
    sub.add_argument("tool", metavar="TOOL")
    sub.add_argument("pairs", nargs="*", type=_key_value, metavar="KEY=VALUE",
                     help="the tool's arguments, typed by its input schema (strings stay strings, the rest is JSON)")
    # "extend" with nargs="+": `--arg K=V K2=V2` takes both (argparse would otherwise leave K2=V2
    # over for the positional pairs, which were already consumed, and fail "unrecognized arguments").
    sub.add_argument("--arg", action="extend", nargs="+", type=_key_value, default=[], metavar="KEY=VALUE",
                     help="arguments (repeatable), the same as KEY=VALUE pairs after TOOL")
    sub.add_argument("--json", action="store_true", help="print the whole result as JSON")

    sub = command("bridge", cmd_bridge, "Serve the remote server's tools on stdin/stdout (a stdio MCP server).",
                  server=False)
    sub.add_argument("url", metavar="URL", nargs="?", help="the server's MCP URL (default: the one you logged in to last)")
    return parser


def _configure_logging(verbose: bool) -> None:
    """Diagnostics go to stderr only (stdout carries results, or JSON-RPC for the bridge)."""
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not verbose:
        # The SDK logs a traceback for every auth-flow exit, including the ones this client
        # raises on purpose to explain them in one line.
        logging.getLogger("mcp").setLevel(logging.CRITICAL)
        logging.getLogger("httpx2").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    registry = ServerRegistry()
    try:
        return int(anyio.run(args.handler, args, registry))
    except ClientError as exc:
        print(f"mcprag: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``mcprag search … --json | head``): stop quietly, as Unix tools do,
        # and point stdout at /dev/null so the interpreter's final flush cannot fail again.
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (e.g. captured in a test)
