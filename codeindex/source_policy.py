"""What a remote caller may index, and how its git sources are fetched.

A remote caller is anyone who starts an index job through the network: an MCP tool
(``index_repository``, ``index_changed_files``) or the operator console's *Re-index*. Holding the
``index:admin`` scope must not turn into reading the server's files or into requests from the
server to its own network, so every source such a caller gives, and every stored source it makes
mcprag index again, passes ``check_source`` before anything is recorded, and again
(``prepare_root``) when the job runs:

* **Server directories** only under ``MCPRAG_SOURCE_ROOTS`` (empty by default: none at all).
  The path must be absolute; symbolic links and ``..`` are resolved first (``realpath``), then
  the real path must lie inside a root (``commonpath``), so neither ``/srv/src/../../etc`` nor a
  link under a root that points elsewhere gets out.
* **git over** ``file://``: the same rule for the path the URL names.
* **git over the network**: ``https://`` and ``ssh://`` (and scp-like ``user@host:path``) only;
  plain ``http://``, ``git://``, remote helpers (``ext::…``) and anything starting with ``-`` are
  refused. The host must resolve only to public addresses, judged by the same rule as the OAuth
  client-metadata fetcher (django-oauth-toolkit's ``oauth2_provider.cimd``: no loopback,
  private, link-local, CGNAT, reserved or unspecified address, including IPv4 hidden in IPv6
  forms), and no multicast address. ``MCPRAG_GIT_ALLOWED_HOSTS`` narrows this to listed hosts, which may then
  resolve to private addresses (an internal git server); ``*`` allows every host.
* **no credentials in a URL**: an https URL with a user (``https://TOKEN@host/…``) and any URL
  with a password are refused, because the URL is recorded as the repository's source, shown to
  readers and printed by git in errors; a private source's HTTPS token or SSH deploy key is stored
  encrypted on the repository instead (``credentials``), and reaches git only through its
  environment.
* git runs with ``protocol.allow=never`` except the one transport checked, and
  ``http.followRedirects=false``. For https the checked addresses are pinned with
  ``http.curloptResolve``, so git connects to what was checked even if DNS answers differently a
  moment later (DNS rebinding). Residual risk: ssh resolves the host itself (pinning it would
  bypass the operator's ``~/.ssh/config`` host entries), so a host whose DNS flips between the
  check and ssh's own lookup can still reach a private address, on ssh's port only and speaking
  only the ssh protocol; an https proxy set in the worker's environment resolves hosts itself.

The ``index_repo`` command is not limited: the operator at the shell may index any directory or
git URL (``prepare_root(..., remote=False)``).

    check_source("/srv/src/shop")                 # "/srv/src/shop" when /srv/src is a root
    check_source("/etc/ssh")                      # SourceNotAllowed naming MCPRAG_SOURCE_ROOTS
    check_source("http://127.0.0.1:8080/x.git")   # SourceNotAllowed: https or ssh only
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.http.request import validate_host

# The address rule of the client-metadata fetcher (oauth2_provider.cimd.SafeMetadataFetcher), reused
# so that both outbound paths judge addresses the same way.
from oauth2_provider.cimd import _ip_is_public as _fetcher_is_public

from .app_settings import app_settings
from .exceptions import SourceNotAllowed, SourceNotFound
from .sources import Fetched, GitAccess, fetch_clone, is_git_url, local_changes, local_commit, local_root, without_credentials

__all__ = ["check_source", "prepare_root", "prepare_source", "read_access", "GitSource", "is_public_address"]

_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # ext::sh -c …, fd::…, any <transport>::<address>
_SCP_LIKE = re.compile(r"^(?P<user>[^@/:]+)@(?P<host>[^@/:]+):(?P<path>.*)$")
_HOST = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.:-]*[A-Za-z0-9_.])?$")
_NETWORK_SCHEMES = {"https": 443, "ssh": 22}


@dataclass(frozen=True)
class GitSource:
    """A checked git URL: ``transport`` (https, ssh or file), and for the network the ``host``,
    ``port`` and the ``addresses`` it resolved to when checked."""

    url: str
    transport: str
    host: str = ""
    port: int = 0
    addresses: tuple[str, ...] = ()

    def git_options(self) -> list[str]:
        """``git -c`` settings for this fetch: one transport, no redirects, https pinned to ``addresses``."""
        options = ["protocol.allow=never", f"protocol.{self.transport}.allow=always", "http.followRedirects=false"]
        if self.transport == "https":
            pinned = ",".join(f"[{a}]" if ":" in a else a for a in self.addresses)
            options.append(f"http.curloptResolve={self.host}:{self.port}:{pinned}")
        return options


def check_source(source: str) -> str:
    """A remote caller's ``source`` as it will be indexed, or an error saying why not.

    Returns the real path of a directory under ``MCPRAG_SOURCE_ROOTS``, the ``file://`` URL of
    such a path, or the https/ssh git URL unchanged. Raises ``SourceNotAllowed`` (the rule and
    the setting that would allow it) or ``SourceNotFound`` (inside a root, but no such directory).
    """
    source = _refuse_malformed(source)
    if is_git_url(source):
        return git_source(source).url
    return str(_local_root_under_roots(source))


def prepare_root(source: str, name: str, *, remote: bool) -> Path:
    """The directory a job indexes: ``source``'s clone in ``MCPRAG_CLONE_DIR/name`` (fetched) or
    the directory itself; for a ``remote`` job both checked again by the rules above."""
    return prepare_source(source, name, remote=remote).root


def prepare_source(source: str, name: str, *, remote: bool, branch: str = "", depth: int = 1000,
                   credential_env: tuple[tuple[str, str], ...] = ()) -> Fetched:
    """``prepare_root`` with the revision: a git source is fetched (``branch``, the remote's
    default when empty, at most ``depth`` commits, with a private source's ``credential_env``)
    and the commit checked out is returned; a directory gives its own HEAD when it is a git
    working tree (``commit`` "" otherwise), and whether the tree has changes that commit lacks
    (``dirty``, ``sources.local_changes``)."""
    if remote:
        source = _refuse_malformed(source)
    if not is_git_url(source):
        root = _local_root_under_roots(source) if remote else local_root(source)
        commit = local_commit(root)
        return Fetched(root=root, branch="", commit=commit, dirty=bool(commit) and local_changes(root))
    options: tuple[str, ...] = ()
    if remote:
        checked = git_source(source)
        source, options = checked.url, tuple(checked.git_options())
    return fetch_clone(source, name, branch=branch, depth=depth, access=GitAccess(options=options, env=credential_env))


def read_access(source: str, credential_env: tuple[tuple[str, str], ...] = ()) -> GitAccess:
    """How the history tools may reach ``source`` when git needs file contents the partial clone
    does not hold yet: the rules above when the source passes them; otherwise no transport at
    all (``protocol.allow=never``: history answers only from what is already fetched)."""
    try:
        checked = git_source(_refuse_malformed(source)) if is_git_url(source) else None
    except (SourceNotAllowed, SourceNotFound):
        checked = None
    if checked is None:
        return GitAccess(options=("protocol.allow=never",))
    return GitAccess(options=tuple(checked.git_options()), env=credential_env)


def git_source(url: str) -> GitSource:
    """Check a git URL for a remote caller (see the module docstring); resolves its host."""
    if url.lower().startswith("file://"):
        return _file_source(url)
    scp = _SCP_LIKE.match(url)
    parts = urlsplit(url)
    scheme = "ssh" if scp else parts.scheme.lower()
    if scheme not in _NETWORK_SCHEMES:
        raise SourceNotAllowed(f"cannot index {_shown(url)}: git sources must use https:// or ssh:// "
                               "(or user@host:path); plain http, git:// and other transports are refused")
    if not scp and (parts.password is not None or (scheme == "https" and parts.username is not None)):
        raise SourceNotAllowed(f"cannot index {_shown(url)}: the URL holds credentials; give the URL without them and store "
                               "the token or deploy key as the repository's credential (it is kept encrypted, never in a URL or log)")
    try:
        host, port = (scp["host"], 22) if scp else (parts.hostname or "", parts.port or _NETWORK_SCHEMES[scheme])
    except ValueError:  # a port out of range or not a number
        raise SourceNotAllowed(f"cannot index {_shown(url)}: the URL has an invalid port") from None
    host = host.lower()
    if not _HOST.match(host):
        raise SourceNotAllowed(f"cannot index {_shown(url)}: {host[:80]!r} is not a host name")
    return GitSource(url=url, transport=scheme, host=host, port=port, addresses=_allowed_addresses(url, host, port))


def is_public_address(address: str) -> bool:
    """The client-metadata fetcher's rule (globally routable, IPv4 inside IPv6 forms decoded), and
    not multicast, which that rule lets through (``is_global``) though no git server listens there."""
    return _fetcher_is_public(address) and not ipaddress.ip_address(address).is_multicast


def _allowed_addresses(url: str, host: str, port: int) -> tuple[str, ...]:
    allowed = app_settings.GIT_ALLOWED_HOSTS
    if allowed and not validate_host(host, list(allowed)):
        raise SourceNotAllowed(f"cannot index {_shown(url)}: {host} is not listed in MCPRAG_GIT_ALLOWED_HOSTS")
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise SourceNotAllowed(f"cannot index {_shown(url)}: the host {host} cannot be resolved") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise SourceNotAllowed(f"cannot index {_shown(url)}: the host {host} cannot be resolved")
    if not allowed and not all(is_public_address(address) for address in addresses):
        raise SourceNotAllowed(f"cannot index {_shown(url)}: {host} resolves to a non-public address "
                               "(loopback, private, link-local…); an operator can allow it with MCPRAG_GIT_ALLOWED_HOSTS")
    return addresses


def _file_source(url: str) -> GitSource:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise SourceNotAllowed(f"cannot index {_shown(url)}: a file:// URL must name a path on this server")
    root = _local_root_under_roots(unquote(parts.path))
    return GitSource(url=root.as_uri(), transport="file")


def _local_root_under_roots(path: str) -> Path:
    """The real path of ``path`` when it lies inside one of ``MCPRAG_SOURCE_ROOTS``."""
    if not os.path.isabs(path):
        raise SourceNotAllowed(f"cannot index {_shown(path)}: give an absolute path on the server")
    roots = app_settings.SOURCE_ROOTS
    if not roots:
        raise SourceNotAllowed(f"cannot index {_shown(path)}: indexing server directories through a tool is turned off "
                               "(an operator can allow directories with MCPRAG_SOURCE_ROOTS)")
    real = os.path.realpath(path)  # symbolic links and ".." resolved before the check
    if not any(os.path.commonpath([real, root]) == root for root in roots):
        raise SourceNotAllowed(f"cannot index {_shown(path)}: it is not inside a directory listed in MCPRAG_SOURCE_ROOTS")
    return local_root(real)


def _refuse_malformed(source: str) -> str:
    source = (source or "").strip()
    if not source:
        raise SourceNotFound("no source given: a directory on the server or a git URL")
    if "\x00" in source or len(source) > 4096:
        raise SourceNotAllowed("cannot index this source: it is not a path or URL")
    if source.startswith("-"):
        raise SourceNotAllowed(f"cannot index {_shown(source)}: a source must not start with '-'")
    if _REMOTE_HELPER.match(source):
        raise SourceNotAllowed(f"cannot index {_shown(source)}: git remote helpers (such as ext::) are refused")
    return source


def _shown(source: str) -> str:
    return repr(without_credentials(source)[:200])
