"""The files of a local directory that belong in the index, read as text.

A ``SourceTree`` walks a directory the way ``git status`` sees it: ``.gitignore`` files at every
level apply to their own subtree (deeper files win, ``!negation`` and ``/anchoring`` follow git's
rules, a file inside an ignored directory cannot be re-included), and ``.git`` is never entered.
Files are then read and refused, with a counted ``SkipReason``, when they are binary (a NUL byte,
or not UTF-8), larger than ``MCPRAG_MAX_FILE_BYTES``, not regular files, or symbolic links whose
target lies outside the root. Symbolic links to directories are never descended.

    tree = SourceTree("/srv/src/django")
    for source in tree:             # SourceText(path="django/utils/http.py", text=..., ...)
        ...
    tree.skipped                    # Counter({"binary": 12, "too_large": 1})
    tree.errors                     # [("docs/secret.txt", "cannot read: Permission denied")]
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from .app_settings import app_settings
from .choices import SkipReason

__all__ = ["SourceText", "SourceTree", "GIT_DIR", "GITIGNORE"]

GIT_DIR = ".git"
GITIGNORE = ".gitignore"

# (base directory relative to the root, "" for the root; the spec read from its .gitignore)
_IgnoreLevel = tuple[str, GitIgnoreSpec]


@dataclass(frozen=True)
class SourceText:
    """One readable text file: ``path`` relative posix, ``text`` with ``\\n`` line ends only.

    ``sha256`` is the hex digest of the file's bytes as stored on disk; ``size_bytes`` their count.
    """

    path: str
    text: str
    sha256: str
    size_bytes: int


class SourceTree:
    """The indexable files under ``root`` (an existing directory; the caller checks).

    ``paths()`` lists candidates (after ``.gitignore``), ``read(path)`` reads one, and iterating
    does both. Refusals are counted in ``skipped`` (``SkipReason`` value → count); files that
    could not be read are also listed in ``errors`` as ``(path, one-line message)``.
    """

    def __init__(self, root: str | os.PathLike, *, max_file_bytes: int | None = None):
        self.root = Path(root).resolve()
        self.max_file_bytes = app_settings.MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
        self.skipped: Counter[str] = Counter()
        self.errors: list[tuple[str, str]] = []
        self._paths: list[str] | None = None

    def __iter__(self) -> Iterator[SourceText]:
        for path in self.paths():
            source = self.read(path)
            if source is not None:
                yield source

    def paths(self) -> list[str]:
        """Relative posix paths of the files not excluded by ``.gitignore``, in walk order."""
        if self._paths is None:
            self._paths = list(self._walk())
        return self._paths

    def read(self, path: str) -> SourceText | None:
        """The file at relative ``path`` as text, or None when it is skipped (and counted)."""
        full = self.root / path
        try:
            data = self._read_bytes(full)
        except OSError as exc:
            self._fail(path, f"cannot read: {exc.strerror or exc}")
            return None
        if data is None:
            return None
        text = self._decode(data)
        if text is None:
            return None
        return SourceText(path=path, text=text, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))

    # -- walking ----------------------------------------------------------------------------

    def _walk(self) -> Iterator[str]:
        levels_by_dir: dict[str, list[_IgnoreLevel]] = {}
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False, onerror=self._walk_error):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            levels = list(levels_by_dir.get(os.path.dirname(rel_dir) if rel_dir else None, []))
            if GITIGNORE in filenames:
                levels.append((rel_dir, self._load_gitignore(rel_dir)))
            levels_by_dir[rel_dir] = levels
            dirnames[:] = [d for d in sorted(dirnames) if self._descend(rel_dir, d, levels)]
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if name != GIT_DIR and self._usable_name(rel) and not _ignored(rel, levels, is_dir=False):
                    yield rel

    def _descend(self, rel_dir: str, name: str, levels: list[_IgnoreLevel]) -> bool:
        rel = f"{rel_dir}/{name}" if rel_dir else name
        if name == GIT_DIR or not self._usable_name(rel) or _ignored(rel, levels, is_dir=True):
            return False
        full = self.root / rel
        if full.is_symlink():
            if not self._inside_root(full):
                self.skipped[SkipReason.OUTSIDE_ROOT] += 1
            return False
        return True

    def _load_gitignore(self, rel_dir: str) -> GitIgnoreSpec:
        rel = f"{rel_dir}/{GITIGNORE}" if rel_dir else GITIGNORE
        full = self.root / rel
        try:
            inside = not full.is_symlink() or self._inside_root(full)
            lines = full.read_text(encoding="utf-8", errors="replace").splitlines() if inside else []
        except OSError as exc:
            self.errors.append((rel, f"cannot read: {exc.strerror or exc}"))
            lines = []
        valid = []
        for number, line in enumerate(lines, start=1):
            try:
                GitIgnoreSpec.from_lines([line])
            except (ValueError, re.error):
                self.errors.append((rel, f"line {number}: invalid pattern {line!r} ignored"))
            else:
                valid.append(line)
        return GitIgnoreSpec.from_lines(valid)

    def _usable_name(self, rel: str) -> bool:
        """Paths are stored as UTF-8 text; a name that is not valid UTF-8 cannot be."""
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            self._fail(rel.encode("utf-8", "backslashreplace").decode("ascii", "replace"), "file name is not valid UTF-8")
            return False
        return True

    def _walk_error(self, exc: OSError) -> None:
        where = Path(exc.filename).relative_to(self.root).as_posix() if exc.filename else "."
        self.errors.append((where, f"cannot list directory: {exc.strerror or exc}"))

    # -- reading ----------------------------------------------------------------------------

    def _read_bytes(self, full: Path) -> bytes | None:
        if full.is_symlink() and not self._inside_root(full):
            self.skipped[SkipReason.OUTSIDE_ROOT] += 1
            return None
        info = full.stat()
        if not stat.S_ISREG(info.st_mode):
            self.skipped[SkipReason.NOT_REGULAR] += 1
            return None
        if info.st_size > self.max_file_bytes:
            self.skipped[SkipReason.TOO_LARGE] += 1
            return None
        with full.open("rb") as handle:
            data = handle.read(self.max_file_bytes + 1)  # the file may have grown since stat()
        if len(data) > self.max_file_bytes:
            self.skipped[SkipReason.TOO_LARGE] += 1
            return None
        return data

    def _decode(self, data: bytes) -> str | None:
        """UTF-8 text with ``\\n`` line ends, or None (counted as binary).

        Any NUL byte counts as binary, not only one in the first 8 KiB: PostgreSQL text cannot
        hold NUL, and a file that has one is not source code anyway.
        """
        if b"\x00" in data:
            self.skipped[SkipReason.BINARY] += 1
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.skipped[SkipReason.BINARY] += 1
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

    def _inside_root(self, full: Path) -> bool:
        return full.resolve().is_relative_to(self.root)

    def _fail(self, path: str, message: str) -> None:
        self.skipped[SkipReason.UNREADABLE] += 1
        self.errors.append((path, message))


def _ignored(rel: str, levels: list[_IgnoreLevel], *, is_dir: bool) -> bool:
    """Whether git would ignore ``rel``: the deepest ``.gitignore`` with a matching rule decides."""
    for base, spec in reversed(levels):
        below = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(below + "/" if is_dir else below)
        if result.include is not None:
            return bool(result.include)
    return False
