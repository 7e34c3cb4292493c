"""Code navigation for agents: list repositories and directories, read indexed files, grep.

Every function takes ``access`` (a ``RepositoryAccess``) and applies it in SQL before anything
is counted or listed; an unknown or hidden repository or path gets the same answer. The texts
served are those stored at indexing time (``store``), so they match what search returned and
stay readable after the source directory moved or was deleted.
"""

from .browse import (
    MAX_DEPTH, READ_MAX_BYTES, READ_MAX_LINES, TREE_PAGE_SIZE, FileLines, RepositoryInfo, TreeEntry, TreePage,
    list_files, list_repositories, read_lines, read_text,
)
from .grep import MAX_CONTEXT_LINES, MAX_GREP_PAGE, MAX_GREP_RESULTS, GrepMatch, GrepPage, grep, iter_matches

__all__ = [
    "RepositoryInfo", "TreeEntry", "TreePage", "FileLines", "GrepMatch", "GrepPage",
    "list_repositories", "list_files", "read_lines", "read_text", "grep", "iter_matches",
    "MAX_DEPTH", "TREE_PAGE_SIZE", "READ_MAX_LINES", "READ_MAX_BYTES", "MAX_GREP_RESULTS", "MAX_GREP_PAGE", "MAX_CONTEXT_LINES",
]
