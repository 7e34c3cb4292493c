"""The one owner of "a repository-relative path as a caller wrote it → the form it is stored in".

Every tool argument naming a file or directory of a repository (``read_file``, ``list_files``,
``file_outline``, ``find_definition``/``find_references`` sites, the history tools, ``analyze_context``,
feedback) goes through ``clean_path``; every look-up of the result in the index or in git goes
through ``path_forms``::

    >>> clean_path("./src\\\\app.py/"), clean_path("/src//app.py"), clean_path(".", allow_root=True)
    ('src/app.py', 'src/app.py', '')

Unicode: the indexer stores a path as the file system gives it (``SourceTree`` walks with
``os.walk``; git keeps a name's bytes as committed), so a name made on macOS may be stored
decomposed (NFD) and one made elsewhere composed (NFC), and a caller may write either. Neither end
is rewritten (a stored path stays what git and the file system call the file); instead a look-up
tries each of ``path_forms(path)``: the path as written first, then its NFC and NFD forms.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata

from .exceptions import InvalidArgument
from .patterns import is_text

__all__ = ["MAX_PATH_LENGTH", "clean_path", "path_forms"]

MAX_PATH_LENGTH = 1000
"""Characters in a path argument, as the caller wrote it."""

# Control characters (NUL, a newline …) and unpaired surrogates: no stored path has them.
_UNUSABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def clean_path(path: str, *, allow_root: bool = False) -> str:
    """The stored form of a repository-relative ``path``: ``\\`` read as ``/``, surrounding blanks,
    a leading ``./`` or ``/``, a trailing ``/``, repeated ``/`` and ``.`` parts dropped
    (``"./src\\\\app.py/"`` → ``"src/app.py"``); ``""`` for the root when ``allow_root``.

    Raises ``InvalidArgument`` for a value that is not text of at most ``MAX_PATH_LENGTH``
    characters on one line (a NUL or other control character, an unpaired surrogate), for a path
    that leaves the repository (``..``), and for the root when ``allow_root`` is False.
    """
    if isinstance(path, str) and not is_text(path):  # JSON's "\ud800": no file name holds one
        raise InvalidArgument("the path is not valid text (it has a lone surrogate)")
    if not isinstance(path, str) or len(path) > MAX_PATH_LENGTH or _UNUSABLE.search(path):
        raise InvalidArgument(f"the path must be one line of at most {MAX_PATH_LENGTH} characters")
    clean = posixpath.normpath(path.strip().replace("\\", "/")).strip("/")
    if clean in (".", ""):
        clean = ""
    if clean == ".." or clean.startswith("../"):
        raise InvalidArgument(f"{path[:100]!r} is not a path inside the repository")
    if not clean and not allow_root:
        raise InvalidArgument("a file path is required")
    return clean


def path_forms(clean: str) -> list[str]:
    """The stored forms a path from ``clean_path`` may have: itself, then its Unicode NFC and NFD
    forms where they differ (one element for an ASCII path), in the order a look-up prefers them."""
    return list(dict.fromkeys([clean, unicodedata.normalize("NFC", clean), unicodedata.normalize("NFD", clean)]))
