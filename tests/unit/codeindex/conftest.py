"""Fixtures for codeindex tests: real directory trees in ``tmp_path`` and a realistic corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .corpus import WEBKIT

TreeFactory = Callable[..., Path]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``root`` holding ``files`` (relative posix path → text or bytes); return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run_data_migration(name: str, *, batch_files: int | None = None) -> None:
    """Run ``codeindex.migrations.<name>``'s ``forwards`` on the test database, as ``migrate`` does
    (it reads nothing of its schema editor but the connection). ``batch_files`` sets the
    migration's ``BATCH_FILES`` for this run, so a few files make several batches."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module(f"codeindex.migrations.{name}")
    before = getattr(migration, "BATCH_FILES", None)
    if batch_files is not None:
        migration.BATCH_FILES = batch_files
    try:
        migration.forwards(apps, SimpleNamespace(connection=connection))
    finally:
        if batch_files is not None:
            migration.BATCH_FILES = before


@pytest.fixture
def make_tree(tmp_path) -> TreeFactory:
    """``make_tree({"a.py": "..."}, name="repo")`` writes a tree under tmp_path and returns its root."""

    def make(files: dict[str, str | bytes], name: str = "repo") -> Path:
        return write_tree(tmp_path / name, files)

    return make


@pytest.fixture
def webkit_tree(make_tree) -> Path:
    """The small realistic Python + Markdown corpus in ``corpus.WEBKIT``, on disk."""
    return make_tree(WEBKIT, name="webkit")


@pytest.fixture(autouse=True)
def _lexical_only_unless_asked(request, settings):
    """Embedding with the real model costs ~25 ms a chunk on two cores; tests that are about the
    dense signal ask for ``dense_embeddings`` (the model then loads once per session)."""
    if "dense_embeddings" not in request.fixturenames:
        settings.MCPRAG_EMBEDDINGS = "none"


@pytest.fixture
def dense_embeddings(settings):
    """The real local model (all-MiniLM-L6-v2, offline); skips when the package is not installed."""
    from codeindex.embeddings import get_provider

    settings.MCPRAG_EMBEDDINGS = "local"
    ok, reason = get_provider().available()
    if not ok:
        pytest.skip(reason)
    return get_provider()
