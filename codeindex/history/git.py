"""Running git over a repository's clone for reads, with caller input kept out of git's options.

Rules every history read follows:

* a caller's revision is checked by ``valid_rev`` (a hex SHA prefix, or a branch/tag-like name
  that cannot start with ``-``) and then resolved with ``rev-parse --verify --end-of-options``,
  so it is never taken as an option;
* a caller's path comes after ``--``; a caller's text (author, message, changed line) is passed
  inside a ``--opt=value`` argument and matched as a fixed string (``--fixed-strings``, ``-S``
  without ``--pickaxe-regex``): no regular expression of the caller reaches git;
* every run has a timeout and reads at most ``max_bytes`` of output (the rest is cut, and the
  answer says so), and runs with ``--no-ext-diff --no-textconv`` where a diff is shown;
* the clone's missing file contents are fetched on demand only with the transport rules of
  ``source_policy.read_access`` (else not at all).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import CloneFailed, InvalidArgument
from ..sources import GitAccess, git_env, git_output, scrub

__all__ = ["GitRun", "run_git", "valid_rev", "resolve", "is_ancestor", "changed_paths"]

_REV = re.compile(r"^(?!-)(?!.*\.\.)(?!.*@\{)[A-Za-z0-9._/+-]{1,200}(?:~\d{1,4}|\^\d?)?$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class GitRun:
    """A git run's standard output (decoded, invalid UTF-8 replaced), whether it was cut at the
    cap, and the bytes read (for a file's contents, which are not always UTF-8)."""

    out: str
    truncated: bool
    data: bytes = b""


def run_git(root: Path, args: list[str], *, access: GitAccess = GitAccess(), timeout: int = 60,
            max_bytes: int = 4 * 1024 * 1024) -> GitRun:
    """Run ``git -C root args`` and read at most ``max_bytes`` of its output. Raises
    ``InvalidArgument`` with git's last error line (credentials removed) when git fails."""
    command = ["git", "--literal-pathspecs", *access.config(), "-c", "core.quotePath=false", "-C", str(root), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=git_env(access))
    try:
        data = process.stdout.read(max_bytes + 1)
        truncated = len(data) > max_bytes
        if truncated:
            process.kill()
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise InvalidArgument(f"git {args[0]} took longer than {timeout} s; narrow the request") from None
    if process.returncode != 0 and not truncated:
        last = (err.decode("utf-8", "replace").strip().splitlines() or ["unknown error"])[-1]
        raise InvalidArgument(f"git {args[0]} failed: {scrub(last, access)[:200]}")
    return GitRun(data[:max_bytes].decode("utf-8", "replace"), truncated, data[:max_bytes])


def valid_rev(rev: str, what: str = "commit") -> str:
    """``rev`` when it is a SHA (prefix) or a plain ref name with an optional ``~n``/``^n``; else
    ``InvalidArgument``. Ranges (``a..b``), reflog forms (``@{…}``) and options are refused."""
    if not isinstance(rev, str) or not _REV.match(rev.strip()):
        raise InvalidArgument(f"{what} must be a commit SHA or a branch or tag name")
    return rev.strip()


def resolve(root: Path, rev: str, access: GitAccess = GitAccess(), what: str = "commit") -> str:
    """The full SHA of the commit ``rev`` names in the clone; ``InvalidArgument`` when it is not there
    (not a commit, or older than the history kept)."""
    rev = valid_rev(rev, what)
    out = git_output([*access.config(), "-C", str(root), "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}"], 30,
                     access, check=False).strip()
    if not _SHA.match(out):
        raise InvalidArgument(f"no {what} {rev[:60]!r} in the repository's history (it may be older than the commits kept)")
    return out


def is_ancestor(root: Path, old: str, new: str) -> bool:
    """Whether commit ``old`` is an ancestor of ``new`` in the clone (False when ``old`` is gone)."""
    if not (_SHA.match(old) and _SHA.match(new)):
        return False
    done = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", old, new], capture_output=True,
                          env=git_env(GitAccess(options=("protocol.allow=never",))), stdin=subprocess.DEVNULL, timeout=60)
    return done.returncode == 0


def changed_paths(root: Path, old: str, new: str) -> list[str]:
    """Paths added, changed or deleted between commits ``old`` and ``new`` (both sides of a rename),
    from ``git diff --name-only`` over trees alone (no file contents are fetched)."""
    try:
        out = git_output(["-c", "protocol.allow=never", "-C", str(root), "diff", "--no-renames", "--name-only", "-z", old, new, "--"], 120)
    except CloneFailed as exc:
        raise InvalidArgument(str(exc)) from None
    return sorted({p for p in out.split("\0") if p})
