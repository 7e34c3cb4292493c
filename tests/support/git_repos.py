"""Real git repositories for freshness and history tests: a bare ``origin`` (served over
``file://``, partial clones allowed) and a working clone that commits and pushes to it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["Remote", "git"]

_ENV = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd, *args, env=None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **_ENV, **(env or {})})
    return done.stdout


class Remote:
    """``origin`` (bare, at ``where/origin.git``) and ``work`` (a clone that pushes to it)."""

    def __init__(self, where: Path, files: dict[str, str], branch: str = "main"):
        self.bare = where / "origin.git"
        self.work = where / "work"
        self.branch = branch
        self.work.mkdir(parents=True)
        git(self.work, "init", "-q", "-b", branch)
        self.write(files)
        self.commit("first commit")
        git(where, "clone", "-q", "--bare", str(self.work), str(self.bare))
        git(self.bare, "config", "uploadpack.allowFilter", "true")
        git(self.bare, "config", "uploadpack.allowAnySHA1InWant", "true")
        git(self.work, "remote", "add", "origin", str(self.bare))
        git(self.work, "fetch", "-q", "origin")
        git(self.work, "branch", "-q", f"--set-upstream-to=origin/{branch}")

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def write(self, files: dict[str, str | None]) -> None:
        for path, text in files.items():
            target = self.work / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str, files: dict[str, str | None] | None = None, *, author: str | None = None,
               add_ignored: bool = False) -> str:
        """Commit ``files`` (None deletes one); ``add_ignored`` commits files .gitignore names too."""
        if files:
            self.write(files)
        git(self.work, "add", "-A", *(["--force"] if add_ignored else []))
        env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.com"} if author else None
        git(self.work, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def empty_commits(self, messages: list[str]) -> str:
        """One commit per message on the branch, each changing nothing, made by one ``git fast-import``
        run (hundreds of commits in well under a second); the working tree stays as it is."""
        when = int(git(self.work, "log", "-1", "--format=%ct"))
        stream = [f"reset refs/heads/{self.branch}\nfrom {self.head()}\n\n"]
        for n, message in enumerate(messages, 1):
            data = message.encode()
            stream.append(f"commit refs/heads/{self.branch}\ncommitter Ada Lovelace <ada@example.com> {when + n} +0000\n"
                          f"data {len(data)}\n{message}\n\n")
        subprocess.run(["git", "fast-import", "--quiet"], cwd=self.work, check=True, capture_output=True,
                       input="".join(stream).encode(), env={**os.environ, **_ENV})
        return self.head()

    def push(self, *, force: bool = False) -> str:
        git(self.work, "push", "-q", *(["--force"] if force else []), "origin", f"HEAD:refs/heads/{self.branch}")
        return self.head()

    def head(self) -> str:
        return git(self.work, "rev-parse", "HEAD").strip()
