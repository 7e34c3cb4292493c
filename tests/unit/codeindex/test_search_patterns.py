"""Caller-controlled filters of search (path_glob, inline ``path:``, exact strings) run in linear
time and bounded size on SQLite and PostgreSQL (run with DATABASE_URL for the latter), and an
unusable one is refused with InvalidQuery naming the limit or the problem."""

from __future__ import annotations

import time

import pytest

from codeindex.exceptions import InvalidQuery
from codeindex.services import index_repository, search

pytestmark = pytest.mark.django_db

# Paths long enough that a backtracking engine needs seconds per row for the globs below.
DEEP = "/".join(["abcdefghijklmnopqrstuvwxyz"] * 6)
FILES = {f"{DEEP}/module_{n}.py": f"def invoice_total_{n}(items):\n    return sum(items)  # invoice total\n" for n in range(4)}
FILES["billing/invoice.py"] = "def invoice_total(lines):\n    return sum(line.amount for line in lines)\n"
PATHOLOGICAL = ["**?**?**?**?**?Z", "**?" * 20 + "Z", "*?*?*?*?*?*?*?*?Z", "**" + "?*" * 40 + "Z"]


@pytest.fixture
def deep_repo(make_tree):
    index_repository(make_tree(FILES, name="deep"), "deep")


@pytest.mark.parametrize("glob", PATHOLOGICAL)
def test_a_pathological_path_glob_answers_at_once(deep_repo, glob):
    started = time.perf_counter()
    assert search("invoice total", path_glob=glob) == []
    assert search(f"invoice total path:{glob}") == []
    assert time.perf_counter() - started < 1.0


def test_a_glob_still_filters(deep_repo):
    assert {h.path for h in search("invoice total", path_glob="billing/*.py")} == {"billing/invoice.py"}
    assert {h.path for h in search("invoice total path:**?**/module_1.py")} == {f"{DEEP}/module_1.py"}
    assert len(search("invoice total", path_glob="**?**?**?**?**?y")) == 5


def test_exact_strings_still_filter(deep_repo):
    assert {h.path for h in search("invoice total", exact=["line.amount"])} == {"billing/invoice.py"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path_glob": "*" * 301}, "the path glob is 301 characters long; at most 300 are allowed"),
        ({"path_glob": "a\x00b"}, "the path glob must be one line without control characters"),
        ({"exact": ["x" * 201]}, "an exact term is 201 characters long; at most 200 are allowed"),
        ({"path_glob": "src/\ud800"}, "the path glob is not valid text (it has a lone surrogate)"),
        ({"exact": ["a\x00b"]}, "an exact term cannot contain a NUL character or a lone surrogate"),
        ({"exact": ["\ud800"]}, "an exact term cannot contain a NUL character or a lone surrogate"),
    ],
)
def test_an_unusable_filter_is_refused_naming_the_limit(deep_repo, kwargs, message):
    with pytest.raises(InvalidQuery) as info:
        search("invoice total", **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("glob", PATHOLOGICAL[:2])
def test_the_dense_signals_path_filter_answers_a_pathological_glob_at_once(glob):
    import numpy as np

    from codeindex.patterns import glob_regex
    from codeindex.vectors import VectorStore, _Block

    paths = [f"{DEEP}/module_{n}.py" for n in range(4)]
    store = VectorStore()
    store._blocks[(1, "model")] = _Block(generation=1, ids=np.arange(4, dtype=np.int64), matrix=np.eye(4, dtype=np.float32),
                                         languages=np.array(["python"] * 4, dtype=object),
                                         path_index=np.arange(4, dtype=np.int32), paths=paths)
    started = time.perf_counter()
    assert store.search(np.ones(4), {1: 1}, model="model", path_regex=glob_regex(glob)).top == []
    assert time.perf_counter() - started < 1.0
    assert len(store.search(np.ones(4), {1: 1}, model="model", path_regex=glob_regex("**/module_?.py")).top) == 4
