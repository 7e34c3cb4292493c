"""Private git sources: a repository's HTTPS token or SSH deploy key, handed to git safely.

The secret is stored sealed (``codeindex.sealed``) on the repository and reaches git only through
the environment of the one git process that needs it, never through its command line (which other
local users can read in ``/proc``) nor through the URL (which git prints in errors and mcprag
records as the source):

* an **HTTPS token** becomes ``http.extraHeader: Authorization: Basic …`` set with git's
  ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n`` variables (git ≥ 2.31). The
  user name is ``x-access-token`` (GitHub; GitLab and Gitea accept any name with a token) unless
  the token is given as ``user:token``;
* an **SSH deploy key** is written to a file readable only by this process's user, in a private
  temporary directory removed when the work ends, and named by ``GIT_SSH_COMMAND``
  (``IdentitiesOnly=yes``, ``BatchMode=yes``).

Messages that could hold output of git pass through ``sources.scrub``, which removes these values.

    with credential_env(repository) as env:      # () for a public source
        fetch_clone(url, name, access=GitAccess(options=..., env=env))
"""

from __future__ import annotations

import base64
import os
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from .choices import CredentialKind
from .exceptions import InvalidArgument
from .sealed import open_sealed, seal

__all__ = ["credential_env", "set_credential", "MAX_SECRET_BYTES"]

#: The largest token or key accepted (an ed25519 or RSA-4096 private key fits easily).
MAX_SECRET_BYTES = 16 * 1024


def set_credential(repository, kind: str, secret: str) -> None:
    """Store ``secret`` sealed as the repository's ``kind`` credential (``token``/``ssh_key``);
    ``kind`` "" removes it. Raises ``InvalidArgument`` for an unknown kind or malformed secret."""
    if not kind:
        repository.credential_kind, repository.credential_sealed = "", ""
    else:
        if kind not in CredentialKind.values:
            raise InvalidArgument(f"credential kind must be one of {', '.join(CredentialKind.values)}")
        secret = (secret or "").strip()
        if not secret or len(secret.encode()) > MAX_SECRET_BYTES or "\x00" in secret:
            raise InvalidArgument("the credential is empty or too long")
        if kind == CredentialKind.TOKEN and any(c in secret for c in "\r\n "):
            raise InvalidArgument("a token is one line without spaces")
        if kind == CredentialKind.SSH_KEY and "PRIVATE KEY-----" not in secret:
            raise InvalidArgument("an SSH deploy key is a private key in OpenSSH or PEM form")
        repository.credential_kind, repository.credential_sealed = kind, seal(secret + ("\n" if kind == CredentialKind.SSH_KEY else ""))
    repository.save(update_fields=["credential_kind", "credential_sealed"])


@contextmanager
def credential_env(repository) -> Iterator[tuple[tuple[str, str], ...]]:
    """The environment entries that let git authenticate as the repository's credential, for
    the duration of the ``with`` block; ``()`` when it has none (or it cannot be unsealed)."""
    secret = open_sealed(repository.credential_sealed) if repository.credential_kind else ""
    if not secret:
        yield ()
        return
    if repository.credential_kind == CredentialKind.TOKEN:
        user, _, token = secret.rpartition(":")
        basic = base64.b64encode(f"{user or 'x-access-token'}:{token}".encode()).decode()
        yield (("GIT_CONFIG_COUNT", "1"), ("GIT_CONFIG_KEY_0", "http.extraHeader"),
               ("GIT_CONFIG_VALUE_0", f"Authorization: Basic {basic}"))
        return
    with tempfile.TemporaryDirectory(prefix="mcprag-key-") as directory:
        key = os.path.join(directory, "deploy_key")
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret)
        command = f"ssh -i {shlex.quote(key)} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
        yield (("GIT_SSH_COMMAND", command),)
