"""The history services: commits, blame, diffs and commit search of a visible repository.

Each answers from the repository's clone at its indexed commit (so history and search agree),
for repositories the caller's ``RepositoryAccess`` sees (``visibility.visible_repository``: an
unknown and a hidden repository get the same answer). A repository indexed from a directory that
is not a git working tree has no history (``InvalidArgument`` saying so).

Limits: ``COMMITS_PAGE_SIZE`` commits per page, ``MAX_BLAME_LINES`` lines per blame,
``MAX_DIFF_BYTES`` of patch per diff (cut, and ``truncated`` says so), ``MAX_TEXT_LENGTH``
characters of search text, and ``search_commits(in_diff=True)`` looks at the newest
``IN_DIFF_SCAN`` commits of each repository.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..access import RepositoryAccess
from ..credentials import credential_env
from ..exceptions import InvalidArgument
from ..models import Repository
from ..navigation.common import check_int, next_page, past_the_end
from ..patterns import is_text
from ..paths import clean_path, path_forms
from ..source_policy import read_access
from ..sources import GIT_DIR, GitAccess, decode_text, encoded_forms
from ..visibility import visible_repositories, visible_repository
from .git import is_ancestor, resolve, run_git

__all__ = [
    "CommitInfo", "CommitPage", "BlameLine", "BlameResult", "DiffFile", "DiffResult", "CommitMatches",
    "list_commits", "blame", "diff", "compare", "search_commits",
    "COMMITS_PAGE_SIZE", "MAX_BLAME_LINES", "MAX_DIFF_BYTES", "MAX_TEXT_LENGTH", "IN_DIFF_SCAN", "MAX_PAGE",
]

COMMITS_PAGE_SIZE = 30
MAX_PAGE = 100
MAX_BLAME_LINES = 400
MAX_DIFF_BYTES = 64 * 1024
MAX_TEXT_LENGTH = 200
IN_DIFF_SCAN = 300
_SEARCH_REPOSITORIES = 20
_FORMAT = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%b%x1e"
_BODY_CHARS = 2000


@dataclass(frozen=True)
class CommitInfo:
    """One commit: full ``sha`` and ``short`` (12 hex), author name and email, author ``date``
    (with its offset), ``subject`` (first line) and ``body`` (the rest, cut at 2,000 characters)."""

    sha: str
    short: str
    author: str
    email: str
    date: datetime
    subject: str
    body: str = ""


@dataclass(frozen=True)
class CommitPage:
    """``note`` (``uncommitted_note``) is set when the working tree indexed had changes no commit holds."""

    repository: str
    branch: str
    indexed_commit: str
    commits: list[CommitInfo]
    page: int
    next_page: int | None
    note: str = ""  # the indexed tree had uncommitted changes (uncommitted_note); older commits remain past MAX_PAGE


@dataclass(frozen=True)
class BlameLine:
    line: int
    commit: str
    author: str
    date: datetime
    summary: str
    text: str


@dataclass(frozen=True)
class BlameResult:
    """``note`` (``uncommitted_note``) is set when the working tree indexed had changes that
    ``commit`` lacks: the lines blamed are then the commit's, not necessarily the indexed text."""

    repository: str
    path: str
    commit: str
    start_line: int
    end_line: int
    lines: list[BlameLine]
    note: str = ""


@dataclass(frozen=True)
class DiffFile:
    path: str
    additions: int | None  # None for a binary file
    deletions: int | None


@dataclass(frozen=True)
class DiffResult:
    """The change from ``base`` to ``head`` (full SHAs; ``base`` "" for a root commit): per-file
    line counts and the unified ``patch``, cut at ``MAX_DIFF_BYTES`` of git's output (``truncated``;
    a character the cut splits is left out). Each file's lines in ``patch`` are decoded as
    ``read_file`` decodes that file (UTF-8, Windows-1252 or Latin-1: ``_patch_text``)."""

    repository: str
    base: str
    head: str
    commit: CommitInfo | None
    files: list[DiffFile]
    patch: str
    truncated: bool
    max_bytes: int = MAX_DIFF_BYTES


@dataclass(frozen=True)
class CommitMatches:
    query: str
    in_diff: bool
    matches: list[tuple[str, CommitInfo, str]] = field(default_factory=list)  # (repository, commit, "message" | "diff")


# -- the services ---------------------------------------------------------------------------------


def list_commits(repository: str, *, access: RepositoryAccess, path: str | None = None, author: str | None = None,
                 since: str | None = None, until: str | None = None, query: str | None = None, page: int = 1) -> CommitPage:
    """Commits reachable from the indexed commit, newest first, ``COMMITS_PAGE_SIZE`` a page;
    ``path`` keeps commits that touched it, ``author`` (name or email), ``query`` (message) are
    fixed strings matched ignoring case, ``since``/``until`` ISO-8601 dates or times."""
    repo, root, tip = _history(repository, access)
    check_int("page", page, 1, MAX_PAGE)
    filters = ["--fixed-strings", "--regexp-ignore-case"]
    if author:
        filters.append(f"--author={_text('author', author)}")
    if query:
        filters.append(f"--grep={_text('query', query)}")
    if since:
        filters.append(f"--since={_date('since', since)}")
    if until:
        filters.append(f"--until={_date('until', until, end_of_day=True)}")
    spec = [tip, "--", *_pathspec(path)]
    with _access(repo) as git:
        commits = _parse_log(run_git(root, ["log", f"--format={_FORMAT}", *filters, f"--skip={(page - 1) * COMMITS_PAGE_SIZE}",
                                            f"--max-count={COMMITS_PAGE_SIZE + 1}", *spec], access=git).out)
        if page > 1 and not commits:
            total = int(run_git(root, ["rev-list", "--count", *filters, *spec], access=git).out.strip() or 0)
            raise past_the_end(page, total, COMMITS_PAGE_SIZE, "commits")
    following, note = next_page(page, len(commits) > COMMITS_PAGE_SIZE, MAX_PAGE,
                                "narrow the request with path, author, query, since or until")
    note = "; ".join(part for part in (uncommitted_note(repo), note) if part)
    return CommitPage(repo.name, repo.branch, tip, commits[:COMMITS_PAGE_SIZE], page, following, note)


def blame(repository: str, path: str, start_line: int, end_line: int, *, access: RepositoryAccess) -> BlameResult:
    """Who last changed each of lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``
    at the indexed commit: commit, author, date, summary, text. A range past the end stops at the
    last line, as ``read_file``'s does; what remains may be at most ``MAX_BLAME_LINES`` lines
    (``InvalidArgument`` giving the allowed ``end_line`` range)."""
    repo, root, tip = _history(repository, access)
    check_int("start_line", start_line, 1, None)
    check_int("end_line", end_line, 1, None)
    if end_line < start_line:
        raise InvalidArgument("end_line must not be before start_line")
    clean = clean_path(path)
    forms = path_forms(clean)
    with _access(repo) as git:
        listed = dict(reversed(line.split("\t", 1)) for line in run_git(root, ["ls-tree", "-z", tip, "--", *forms], access=git).out.split("\0")
                      if "\t" in line)
        clean = next((form for form in forms if form in listed), "")
        if not clean:
            why = "; " + uncommitted_note(repo) if repo.indexed_dirty else ""
            raise InvalidArgument(f"no file {forms[0][:200]!r} at commit {tip[:12]} of {repo.name!r}{why}")
        entry = listed[clean]
        if entry.split()[1:2] != ["blob"]:
            raise InvalidArgument(f"{clean[:200]!r} is a directory at commit {tip[:12]}: blame takes a file (list_files lists it)")
        blob = run_git(root, ["cat-file", "blob", f"{tip}:{clean}"], access=git, max_bytes=_BLAME_COUNT_BYTES)
        texts = None if blob.truncated else decode_text(blob.data)
        if not blob.truncated and texts is None:
            raise InvalidArgument(f"{clean[:200]!r} is a binary file at commit {tip[:12]}: blame reads text files")
        lines = None if blob.truncated else blob.data.count(b"\n") + (1 if blob.data and not blob.data.endswith(b"\n") else 0)
        if lines == 0:
            raise InvalidArgument(f"{clean[:200]!r} is empty at commit {tip[:12]}: there is no line to blame")
        if lines is not None and start_line > lines:
            raise InvalidArgument(f"start_line must be from 1 to {lines:,}: {clean[:200]} has {lines:,} lines")
        end_line = min(end_line, lines or end_line)  # a range past the end stops at the last line, as read_file does
        if end_line - start_line + 1 > MAX_BLAME_LINES:
            last = start_line + MAX_BLAME_LINES - 1
            raise InvalidArgument(f"blame takes at most {MAX_BLAME_LINES} lines per call: with start_line {start_line:,}, "
                                  f"end_line must be from {start_line:,} to {last:,}")
        out = run_git(root, ["blame", "--porcelain", "-L", f"{start_line},{end_line}", tip, "--", clean], access=git, timeout=120).out
    blamed = _parse_blame(out)
    decoded = texts[0].split("\n") if texts else []
    if len(decoded) - (1 if texts and texts[0].endswith("\n") else 0) == lines:
        # The line texts as read_file shows them (the file's own encoding, no CR), where the
        # decoded text has git's lines (a file ending lines in a lone CR does not).
        blamed = [replace(b, text=decoded[b.line - 1]) for b in blamed]
    return BlameResult(repo.name, clean, tip, start_line, end_line, blamed, uncommitted_note(repo))


#: blame reads at most this much of a file to count its lines and decode them; past it git's own
#: checks answer and its lines are shown as UTF-8.
_BLAME_COUNT_BYTES = 16 * 1024 * 1024


def diff(repository: str, commit: str, *, access: RepositoryAccess, path: str | None = None) -> DiffResult:
    """What ``commit`` changed against its first parent (the whole tree for a root commit)."""
    repo, root, tip = _history(repository, access)
    with _access(repo) as git:
        head = _indexed(root, commit, tip, git)
        parents = run_git(root, ["rev-list", "--parents", "-n", "1", head], access=git).out.split()
        info = _parse_log(run_git(root, ["log", "-n", "1", f"--format={_FORMAT}", head, "--"], access=git).out)
        base = parents[1] if len(parents) > 1 else ""
        return _diff(repo, root, git, base, head, path, info[0] if info else None)


def compare(repository: str, base: str, head: str, *, access: RepositoryAccess, path: str | None = None) -> DiffResult:
    """The change from commit ``base`` to ``head`` (``git diff base head``), optionally one path."""
    repo, root, tip = _history(repository, access)
    with _access(repo) as git:
        return _diff(repo, root, git, _indexed(root, base, tip, git, "base"), _indexed(root, head, tip, git, "head"), path, None)


def _indexed(root: Path, rev: str, tip: str, git: GitAccess, what: str = "commit") -> str:
    """The full SHA ``rev`` names, read at the indexed commit ``tip``: ``HEAD`` is ``tip`` (a
    local working tree's own HEAD may have moved on since it was indexed), and a commit made after
    ``tip`` on its line is refused until the repository is indexed again."""
    text = rev.strip() if isinstance(rev, str) else rev
    if isinstance(text, str) and (text == "HEAD" or text.startswith(("HEAD~", "HEAD^"))):
        text = tip + text[4:]
    found = resolve(root, text, git, what)
    if found != tip and is_ancestor(root, tip, found):
        raise InvalidArgument(f"{what} {rev.strip()[:60]!r} is newer than the indexed commit {tip[:12]}; "
                              "index the repository again to read it")
    return found


def search_commits(query: str, *, access: RepositoryAccess, repository: str | None = None, in_diff: bool = False,
                   limit: int = COMMITS_PAGE_SIZE) -> CommitMatches:
    """Commits whose message contains ``query`` (fixed string, ignoring case), newest first, in
    ``repository`` or every visible git repository (at most 20); with ``in_diff`` also commits
    among each repository's newest ``IN_DIFF_SCAN`` that added or removed ``query`` (case-sensitive)
    as ``read_file`` shows it: in a UTF-8, Windows-1252 or Latin-1 file, and in a UTF-16 file when
    no UTF-16 code unit of ``query`` holds a zero byte (not ASCII text: ``sources.encoded_forms``)."""
    text = _text("query", query)
    names = [repository] if repository is not None else list(visible_repositories(access).values())
    found: list[tuple[str, CommitInfo, str]] = []
    searched = 0
    for name in names:
        try:
            repo, root, tip = _history(name, access)
        except InvalidArgument:
            if repository is not None:
                raise
            continue  # a directory without history: nothing to search in it
        searched += 1
        if searched > _SEARCH_REPOSITORIES:
            break
        with _access(repo) as git:
            seen = set()
            for commit in _parse_log(run_git(root, ["log", f"--format={_FORMAT}", "--fixed-strings", "--regexp-ignore-case",
                                                    f"--grep={text}", f"--max-count={limit}", tip, "--"], access=git).out):
                seen.add(commit.sha)
                found.append((repo.name, commit, "message"))
            if in_diff:
                newest = run_git(root, ["rev-list", f"--max-count={IN_DIFF_SCAN}", tip, "--"], access=git).out.split()
                # Exactly these commits, each against its parent: a range "oldest..tip" leaves out
                # "oldest" itself (and takes in older commits of merged branches).
                changed: dict[str, CommitInfo] = {}
                for form in encoded_forms(text):  # the text as read_file shows it, in a file of any encoding it reads
                    for commit in _parse_log(run_git(root, ["log", f"--format={_FORMAT}", f"-S{os.fsdecode(form)}", "--no-ext-diff",
                                                            "--no-textconv", f"--max-count={limit}", "--no-walk=unsorted",
                                                            *newest, "--"],
                                                     access=git, timeout=120).out):
                        changed.setdefault(commit.sha, commit)
                order = {sha: n for n, sha in enumerate(newest)}
                for commit in sorted(changed.values(), key=lambda c: order.get(c.sha, len(order))):
                    if commit.sha not in seen:
                        found.append((repo.name, commit, "diff"))
    found.sort(key=lambda item: item[1].date, reverse=True)
    return CommitMatches(text, in_diff, found[:limit])


# -- helpers --------------------------------------------------------------------------------------


def uncommitted_note(repo: Repository) -> str:
    """What history answers are when ``repo`` was indexed from a working tree with uncommitted
    changes or untracked files (``Repository.indexed_dirty``), else ``""``."""
    if not repo.indexed_dirty:
        return ""
    return (f"the working tree indexed had uncommitted changes or untracked files: history is read at commit "
            f"{repo.indexed_commit[:12]}, whose text may differ from what read_file and search_code show")


def _history(name: str, access: RepositoryAccess) -> tuple[Repository, Path, str]:
    repo = visible_repository(name, access)
    root = Path(repo.root_path) if repo.root_path else None
    if not repo.indexed_commit or root is None or not (root / GIT_DIR).exists():
        raise InvalidArgument(f"repository {repo.name!r} has no git history (it is not indexed from git)")
    return repo, root, repo.indexed_commit


class _access:
    """``with _access(repo) as git``: how git may reach the source while answering (see ``source_policy.read_access``)."""

    def __init__(self, repo: Repository):
        self.repo = repo
        self._env = None

    def __enter__(self) -> GitAccess:
        if not self.repo.source_url:  # a local working tree: nothing to fetch
            return GitAccess(options=("protocol.allow=never",))
        self._env = credential_env(self.repo)
        return read_access(self.repo.source_url, self._env.__enter__())

    def __exit__(self, *exc) -> None:
        if self._env is not None:
            self._env.__exit__(*exc)


def _diff(repo: Repository, root: Path, git: GitAccess, base: str, head: str, path: str | None, info: CommitInfo | None) -> DiffResult:
    spec = ["--", *_pathspec(path)]
    pair = [base, head] if base else ["--root", head]
    command = "diff-tree" if not base else "diff"
    flags = ["-r"] if command == "diff-tree" else []
    stat = run_git(root, [command, *flags, "--numstat", "-z", "--no-renames", *pair, *spec], access=git, max_bytes=MAX_DIFF_BYTES * 4)
    files = []
    entries = stat.out.split("\0")
    for entry in entries[:-1] if stat.truncated else entries:  # the last entry of a cut list is cut in its path
        parts = entry.split("\t", 2)
        if len(parts) == 3 and parts[2]:
            added, deleted, name = parts
            files.append(DiffFile(name.lstrip("\n"), None if added == "-" else int(added), None if deleted == "-" else int(deleted)))
    patch = run_git(root, [command, *flags, "-p", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", *pair, *spec],
                    access=git, max_bytes=MAX_DIFF_BYTES, timeout=120)
    data = patch.data
    if command == "diff-tree" and data.startswith(head.encode()):  # diff-tree names the commit first
        data = data.partition(b"\n")[2]
    return DiffResult(repo.name, base, head, info, files, _patch_text(data, patch.truncated), patch.truncated)


_FILE_PATCH = re.compile(rb"^(?=diff --git )", re.MULTILINE)


def _patch_text(data: bytes, cut: bool) -> str:
    """The text of ``git diff -p`` output ``data``, split at its ``diff --git`` lines and each
    file's part decoded on its own (``_file_patch_text``): a Latin-1 file's ``é`` shows as ``é``,
    not U+FFFD. ``cut``: ``data`` stops at the byte cap, inside its last line."""
    parts = _FILE_PATCH.split(data)
    return "".join(_file_patch_text(part, cut and n == len(parts) - 1) for n, part in enumerate(parts))


def _file_patch_text(part: bytes, cut: bool) -> str:
    """One file's part of a patch as text. Its header lines (``diff --git``, ``index``, ``---``,
    ``+++``: paths) are UTF-8, invalid bytes replaced. Its hunk lines are the file's text: the old
    side's (context and ``-`` lines, and the ``@@`` lines, whose trailing words git takes from the
    old file) in the encoding ``decode_text`` reads those lines in, ``+`` lines in the new side's
    (context and ``+`` lines) likewise, context lines as the new side; so a commit that re-encodes a
    file shows both sides readable. Lines keep their carriage returns, as git wrote them. ``cut``:
    the last line stops at the byte cap; it does not count when choosing an encoding, and a
    character the cap split is left out."""
    lines = part.split(b"\n")
    hunks = next((n for n, line in enumerate(lines) if line.startswith(b"@@ ")), len(lines))
    whole = lines[hunks:len(lines) - 1 if cut else len(lines)]
    old = _side_encoding(line[1:] for line in whole if line[:1] in (b" ", b"-"))
    new = _side_encoding(line[1:] for line in whole if line[:1] in (b" ", b"+"))
    text = []
    for n, line in enumerate(lines):
        encoding = "utf-8" if n < hunks else old if line[:1] in (b"-", b"@") else new
        if cut and n == len(lines) - 1:
            text.append(codecs.getincrementaldecoder(encoding)("replace").decode(line, final=False))
        else:
            text.append(line.decode(encoding, "replace"))
    return "\n".join(text)


def _side_encoding(lines) -> str:
    """The encoding ``decode_text`` reads these lines of one side of a file in; UTF-8 (invalid bytes
    replaced) for lines it takes as binary or as UTF-16, whose lines git cannot split."""
    found = decode_text(b"\n".join(lines))
    return found[1] if found and found[1] != "utf-16" else "utf-8"


def _parse_log(out: str) -> list[CommitInfo]:
    commits = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) != 6:
            continue
        sha, name, email, date, subject, body = fields
        commits.append(CommitInfo(sha, sha[:12], name, email, datetime.fromisoformat(date), subject, body.strip()[:_BODY_CHARS]))
    return commits


def _parse_blame(out: str) -> list[BlameLine]:
    info: dict[str, dict[str, str]] = {}
    lines: list[BlameLine] = []
    current: list[str] = []
    for raw in out.split("\n"):
        if raw.startswith("\t"):
            sha, final = current[0], int(current[2])
            meta = info.setdefault(sha, {})
            when = datetime.fromtimestamp(int(meta.get("author-time", "0") or 0), tz=timezone.utc)
            lines.append(BlameLine(final, sha, meta.get("author", ""), when, meta.get("summary", ""), raw[1:]))
            current = []
        elif not current:
            current = raw.split(" ")
            if len(current) < 3:
                current = []
        else:
            key, _, value = raw.partition(" ")
            info.setdefault(current[0], {})[key] = value
    return lines


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be non-empty text")
    if len(value) > MAX_TEXT_LENGTH or any(ord(c) < 32 for c in value):
        raise InvalidArgument(f"{name} must be one line of at most {MAX_TEXT_LENGTH} characters")
    if not is_text(value):  # JSON's "\ud800": no argument to git can hold it
        raise InvalidArgument(f"{name} is not valid text (it has a lone surrogate)")
    return value.strip()


def _date(name: str, value: str, *, end_of_day: bool = False) -> str:
    """git's form of an ISO-8601 ``value``: a time as written (UTC without an offset); a date alone
    is the whole day in UTC, so it starts the day (``since``) or, with ``end_of_day``, ends it
    (``until``, inclusive: ``until=2026-12-07`` keeps that day's commits)."""
    try:
        text = value.strip()
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        if end_of_day and _is_date_only(text):
            moment += timedelta(days=1, seconds=-1)  # git's --until keeps commits at or before it
        # git's raw "@<seconds> <offset>" form: no guessing. Without the "@", git reads fewer than 9
        # digits as something else (a date before 1973-03-03 was ignored or matched nothing); git
        # has no time before 1970, so an earlier one is 1970 (no commit is older).
        return f"@{max(0, int(moment.timestamp()))} +0000"
    except (ValueError, AttributeError, TypeError, OverflowError):
        raise InvalidArgument(f"{name} must be an ISO-8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00+00:00") from None


def _is_date_only(text: str) -> bool:
    """Whether ISO-8601 ``text`` (already read by ``datetime.fromisoformat``) is a date without a time."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _pathspec(path: str | None) -> list[str]:
    """The literal pathspecs for a ``path`` argument: each stored form of the file or directory it
    names (``paths.path_forms``); none for no path or the repository root (``.``, ``./``)."""
    clean = clean_path(path, allow_root=True) if path is not None else ""
    return path_forms(clean) if clean else []
