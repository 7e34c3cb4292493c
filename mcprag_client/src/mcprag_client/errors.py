"""What can go wrong, as one-line messages with documented exit codes (see ``mcprag --help``)."""

from __future__ import annotations

from enum import IntEnum

import httpx2
from mcp.client.auth.exceptions import OAuthFlowError
from mcp.shared.exceptions import MCPError

__all__ = [
    "ExitCode", "ClientError", "NotLoggedIn", "LoginNoLongerValid", "AccountDisabled", "ServerUnreachable",
    "InsufficientScope", "NotAllowed", "LoginFailed", "ToolFailed", "ServerError", "UsageError", "NoEndpoint",
    "find_client_error", "find_oauth_error",
]


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the tool reported an error, or anything not listed below
    USAGE = 2  # bad command line (argparse)
    NOT_LOGGED_IN = 3
    LOGIN_NO_LONGER_VALID = 4  # token revoked or expired beyond refresh, or the account disabled
    SERVER_UNREACHABLE = 5
    INSUFFICIENT_SCOPE = 6  # not allowed: a scope the login lacks, or one the tier never gives
    LOGIN_FAILED = 7  # consent denied, timed out, or the server refused the sign-in


EXIT_CODE_HELP = """\
exit codes:
  0  success
  1  the tool reported an error, or another failure
  2  bad command line
  3  not logged in to that server (run: mcprag login URL)
  4  the login was revoked or has expired beyond refresh (run: mcprag login URL),
     or the server refuses it because the account is disabled (the message says so)
  5  the server is unreachable
  6  not allowed: the login lacks the scope the tool needs, or your tier does not
     allow it (the message names the scope)
  7  sign-in failed (denied at the consent page, timed out, or refused by the server)"""


class ClientError(Exception):
    """An error with a one-line message for the user and an exit code."""

    exit_code = ExitCode.FAILURE


class NotLoggedIn(ClientError):
    exit_code = ExitCode.NOT_LOGGED_IN

    def __init__(self, url: str | None):
        where = f"to {url}" if url else "to any mcprag server"
        super().__init__(f"not logged in {where}; run: mcprag login {url or 'https://HOST'}")


class LoginNoLongerValid(ClientError):
    exit_code = ExitCode.LOGIN_NO_LONGER_VALID

    def __init__(self, url: str, reason: str):
        super().__init__(f"your login for {url} is no longer valid ({reason}); run: mcprag login {url}")


class AccountDisabled(LoginNoLongerValid):
    """The server refuses the login because the person's account is disabled (suspended by an
    operator): signing in again cannot help, so the message gives the server's reason alone."""

    def __init__(self, url: str, reason: str):
        ClientError.__init__(self, f"{url} refuses your login: {reason}; ask an operator of that server")


class ServerUnreachable(ClientError):
    exit_code = ExitCode.SERVER_UNREACHABLE

    def __init__(self, url: str, detail: str = ""):
        super().__init__(f"cannot reach {url}" + (f" ({detail})" if detail else ""))


class InsufficientScope(ClientError):
    exit_code = ExitCode.INSUFFICIENT_SCOPE

    def __init__(self, url: str, needed: list[str], description: str | None = None, granted: set[str] | None = None):
        self.needed = needed
        scopes = ", ".join(repr(s) for s in needed) or "a scope it does not name"
        what = f"{description.rstrip('.')}: " if description else ""
        wanted = " ".join(sorted(set(granted or ()) | set(needed)))
        again = f"mcprag login {url} --scope '{wanted}'" if wanted else f"mcprag login {url}"
        super().__init__(f"{what}insufficient scope; this needs {scopes}, which your login for {url} does not "
                         f"grant; to widen it, run: {again}")


class NotAllowed(ClientError):
    """The server refused a tool call that no new sign-in can allow (the tier never gives the
    scope, or an operator set it): the message is the server's, naming the scope."""

    exit_code = ExitCode.INSUFFICIENT_SCOPE


class NoEndpoint(ClientError):
    """The URL answered, but not as an MCP endpoint (404, a redirect, a web page): usually a
    mistyped path. ``answered`` says how, e.g. "404 Not Found"."""

    exit_code = ExitCode.SERVER_UNREACHABLE

    def __init__(self, url: str, answered: str = "404 Not Found"):
        parts = url.split("/", 3)
        endpoint = "/".join(parts[:3]) + "/mcp"
        hint = f"; try {endpoint}" if endpoint != url else ""
        super().__init__(f"{url} answered {answered}: it is not an MCP endpoint "
                         f"(an mcprag server's MCP endpoint is <server>/mcp{hint})")


class UsageError(ClientError):
    exit_code = ExitCode.USAGE


class LoginFailed(ClientError):
    exit_code = ExitCode.LOGIN_FAILED


class ToolFailed(ClientError):
    exit_code = ExitCode.FAILURE


class ServerError(ClientError):
    """The server answered a request with a JSON-RPC error (``mcp_error`` keeps it for relaying)."""

    exit_code = ExitCode.FAILURE

    def __init__(self, mcp_error):
        self.mcp_error = mcp_error
        super().__init__(f"the server answered with an error: {mcp_error.message} (code {mcp_error.code})")


def _walk(exc: BaseException):
    """``exc``, its causes and contexts, and the members of exception groups, depth first."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend([current.__cause__, current.__context__])


def find_client_error(exc: BaseException, url: str) -> ClientError | None:
    """The :class:`ClientError` behind ``exc`` (the SDK wraps errors of its auth flow and its
    transport tasks in exception groups); a connection failure becomes :class:`ServerUnreachable`."""
    found = list(_walk(exc))
    for error in found:
        if isinstance(error, ClientError):
            return error
    for error in found:
        if isinstance(error, MCPError):
            return ServerError(error)
    for error in found:
        if isinstance(error, (httpx2.ConnectError, httpx2.ConnectTimeout)):
            return ServerUnreachable(url, "connection refused or timed out")
        if isinstance(error, httpx2.TransportError):
            return ServerUnreachable(url, type(error).__name__)
    return None


def find_oauth_error(exc: BaseException) -> OAuthFlowError | None:
    """The SDK auth-flow error behind ``exc`` (registration, token exchange, state/iss checks), if any."""
    return next((error for error in _walk(exc) if isinstance(error, OAuthFlowError)), None)
