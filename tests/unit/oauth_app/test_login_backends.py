"""What a process pays for sign-in backends it does not use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_process_without_stytch_configured_never_imports_its_sdk():
    """The Stytch SDK takes about a second to import; every ``manage.py`` command and server start
    would pay it. Loading every URL (and so every view and sign-in module) must not import it."""
    code = ("import sys, django; django.setup(); import mcprag_site.urls, mcprag_site.asgi; "
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'stytch'))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("STYTCH_")}
    env["DJANGO_SETTINGS_MODULE"] = "mcprag_site.settings"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[3],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
