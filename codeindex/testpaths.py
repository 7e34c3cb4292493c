"""Which files are tests: one rule for ranking, the ``exclude_tests`` filter and pgvector's index.

A path is a test file's when it matches one of ``TEST_PATH_GLOBS`` (``patterns`` glob syntax: a
glob without ``/`` matches the file name in any directory). The rule is used

* by search ranking, which puts test files below the code they test (``services.retrieval``);
* by the ``exclude_tests`` filter of ``search_code`` (``lexical.ChunkFilter.exclude_tests``);
* when a vector is stored: ``ChunkVector.in_tests`` keeps the answer, so that on pgvector an
  ``exclude_tests`` search walks an HNSW index of the non-test vectors only (``vectors``).

Changing ``TEST_PATH_GLOBS`` therefore needs a migration that calls ``mark_test_vectors`` (the
stored answers would otherwise be the old rule's; searches stay correct, as the path filter is
also applied, but an ``exclude_tests`` search would miss what the old rule called a test).

    >>> is_test_path("pkg/tests/test_io.py"), is_test_path("src/io.py"), is_test_path("web/app.spec.ts")
    (True, False, True)
"""

from __future__ import annotations

import functools

from .patterns import compiled, glob_regex

__all__ = ["TEST_PATH_GLOBS", "test_path_regex", "is_test_path"]

TEST_PATH_GLOBS = (
    "**/tests/**", "**/test/**", "**/__tests__/**", "**/spec/**", "**/testing/**", "test_*.py", "*_test.py", "*_tests.py",
    "conftest.py", "*_test.go", "*.test.*", "*.spec.*", "*Test.java", "*Tests.java", "*Test.kt", "*_spec.rb", "*Test.php",
    "*Tests.cs",
)


@functools.lru_cache(maxsize=1)
def test_path_regex() -> str:
    """One regular expression (RE2 and PostgreSQL syntax alike) matching every path one of
    ``TEST_PATH_GLOBS`` matches."""
    return "|".join(f"(?:{glob_regex(glob)})" for glob in TEST_PATH_GLOBS)


def is_test_path(path: str) -> bool:
    """Whether ``path`` (relative to its repository root, ``/``-separated) is a test file's."""
    return bool(compiled(test_path_regex()).search(path))
