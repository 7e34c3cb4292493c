"""Two indexing runs at once on the embedded default (SQLite): both finish.

SQLite allows one writer. A transaction that began as a reader and then wrote (a deferred
transaction, SQLite's default) could not wait for the other writer: "database is locked" at once,
whatever the busy timeout, and the job failed. Transactions now begin as writers (IMMEDIATE) and
wait their turn.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from codeindex.models import Repository
from codeindex.services import index_repository

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_repositories_indexed_at_the_same_time_both_complete(make_tree, settings):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single writer")
    settings.MCPRAG_EMBEDDINGS = "none"
    roots = {name: make_tree({f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n\n\nclass C{i}:\n    pass\n"
                              for i in range(150)}, name=name) for name in ("c1", "c2")}
    errors: dict[str, BaseException] = {}
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            start.wait()
            index_repository(roots[name], name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(name,)) for name in roots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert {r.name: r.files.count() for r in Repository.objects.all()} == {"c1": 150, "c2": 150}
