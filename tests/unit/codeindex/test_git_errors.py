"""What a failed fetch says: git's own reasons (its ``fatal:``/``error:`` lines, joined on one
line), not the last line of its advice; an empty repository is named as such; never a
credential. Real ``file://`` repositories and a real git."""

from __future__ import annotations

import pytest

from codeindex.exceptions import CloneFailed
from codeindex.sources import GitAccess, fetch_clone
from tests.support.git_repos import git


@pytest.fixture
def clones(tmp_path, settings):
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    return tmp_path / "clones"


def _failure(url: str, **kwargs) -> str:
    with pytest.raises(CloneFailed) as caught:
        fetch_clone(url, "shop", **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("make", [lambda where: where / "missing.git", lambda where: (where / "plain").mkdir() or where / "plain"],
                         ids=["missing", "not-a-repository"])
def test_a_source_that_is_not_a_git_repository_is_named_so(tmp_path, clones, make):
    path = make(tmp_path)
    message = _failure(path.as_uri())
    assert message.startswith(f"git failed: fatal: '{path}' does not appear to be a git repository; "), message
    assert "Could not read from remote repository" in message
    assert "and the repository exists" not in message  # git's advice, not the reason


def test_an_empty_repository_is_said_to_have_no_commits_and_leaves_no_clone(tmp_path, clones):
    git(tmp_path, "init", "-q", "--bare", "empty.git")
    message = _failure((tmp_path / "empty.git").as_uri())
    assert message == f"git failed: {(tmp_path / 'empty.git').as_uri()} has no commits: there is nothing to index yet"
    assert not (clones / "shop").exists()


def test_a_branch_missing_from_the_remote_is_named(tmp_path, clones):
    git(tmp_path, "init", "-q", "--bare", "empty.git")
    message = _failure((tmp_path / "empty.git").as_uri(), branch="release")
    assert message == "git failed: fatal: Remote branch release not found in upstream origin"


def test_every_line_kept_is_free_of_credentials(clones):
    """git's lines can hold a URL with user and password, or a secret of the credential
    environment: each line joined into the message is scrubbed."""
    secret = "Pelican7Secret"
    printer = (f"echo 'fatal: cannot reach https://ada:{secret}@git.example/x.git' >&2; "
               f"echo 'error: the token {secret} was refused' >&2; exit 1 #")
    message = _failure("ssh://git@git.example/x.git", access=GitAccess(env=(("GIT_SSH_COMMAND", printer),)))
    assert secret not in message
    assert "fatal: cannot reach https://***@git.example/x.git" in message and "error: the token *** was refused" in message
