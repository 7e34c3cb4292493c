"""Walking a directory like git does: nested .gitignore, negation, anchoring; refusing binaries,
huge files, special files and links that leave the root."""

from __future__ import annotations

import os

import pytest

from codeindex.choices import SkipReason
from codeindex.access import SYSTEM
from codeindex.sources import SourceTree, decode_text

GITIGNORE_TREE = {
    ".gitignore": "# build output\n*.log\n!keep.log\n/build/\ndocs/*.md\ncache/\n",
    "app.py": "print('app')\n",
    "app.log": "noise\n",
    "keep.log": "kept\n",
    "build/out.py": "generated\n",
    "src/build/real.py": "not at the root, so /build/ does not match\n",
    "docs/guide.md": "ignored: docs/*.md is anchored to the root\n",
    "src/docs/guide.md": "kept: the anchored pattern does not match here\n",
    "cache/keep.log": "inside an ignored directory: cannot be re-included\n",
    "secret.txt": "the nested rule does not reach the root\n",
    "sub/.gitignore": "secret.txt\n!important.log\n/local.txt\n",
    "sub/secret.txt": "ignored by the nested file\n",
    "sub/important.log": "re-included by the nested negation\n",
    "sub/other.log": "still ignored by the root *.log\n",
    "sub/local.txt": "ignored: /local.txt is anchored to sub/\n",
    "sub/deeper/local.txt": "kept: anchoring is relative to sub/\n",
    "sub/deeper/secret.txt": "ignored: unanchored nested rule reaches the whole subtree\n",
    "local.txt": "kept: sub/.gitignore does not apply to the root\n",
    ".git/config": "[core]\n",
    ".git/HEAD": "ref: refs/heads/main\n",
}


def test_gitignore_files_apply_to_their_subtree_with_negation_and_anchoring(make_tree):
    tree = SourceTree(make_tree(GITIGNORE_TREE))
    assert sorted(tree.paths()) == [
        ".gitignore",
        "app.py",
        "keep.log",
        "local.txt",
        "secret.txt",
        "src/build/real.py",
        "src/docs/guide.md",
        "sub/.gitignore",
        "sub/deeper/local.txt",
        "sub/important.log",
    ]


def test_git_directory_is_never_walked_even_when_gitignore_negates_it(make_tree):
    tree = SourceTree(make_tree({".gitignore": "!.git/\n", ".git/HEAD": "ref\n", "a.py": "x = 1\n"}))
    assert tree.paths() == [".gitignore", "a.py"]


def test_an_invalid_gitignore_line_is_reported_and_the_others_still_apply(make_tree):
    tree = SourceTree(make_tree({".gitignore": "!\n*.tmp\n", "a.tmp": "x\n", "a.py": "x\n"}))
    assert tree.paths() == [".gitignore", "a.py"]
    assert tree.errors == [(".gitignore", "line 1: invalid pattern '!' ignored")]


def test_read_yields_relative_posix_paths_and_normalised_text(make_tree):
    root = make_tree({"pkg/mod.py": b"\xef\xbb\xbfa = 1\r\nb = 2\rc = 3\n"})
    (source,) = list(SourceTree(root))
    assert source.path == "pkg/mod.py"
    assert source.text == "a = 1\nb = 2\nc = 3\n"
    assert source.size_bytes == len(b"\xef\xbb\xbfa = 1\r\nb = 2\rc = 3\n")
    assert len(source.sha256) == 64


def test_binary_files_are_skipped_and_counted(make_tree):
    root = make_tree(
        {
            "text.py": "x = 1\n",
            "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "late_nul.txt": b"a" * 9000 + b"\x00",
            "no_nul.bin": bytes(range(1, 256)) * 4,  # no NUL, but control bytes no text uses
        }
    )
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["text.py"]
    assert tree.skipped == {SkipReason.BINARY: 3}


def test_text_that_is_not_utf8_is_decoded_not_skipped_as_binary(make_tree):
    root = make_tree({
        "latin1.py": "# Café crème, naïve façade\nname = 'Müller'\n".encode("latin-1"),
        "cp1252.txt": "“quoted” – dash €\r\n".encode("cp1252"),
        "utf16.cs": "\ufeffclass Grüße {}\r\n".encode("utf-16-le"),
        "utf8.py": "s = 'héllo'\n",
    })
    tree = SourceTree(root)
    sources = {s.path: s for s in tree}
    assert tree.skipped == {}
    assert sources["latin1.py"].text == "# Café crème, naïve façade\nname = 'Müller'\n"
    assert sources["cp1252.txt"].text == "“quoted” – dash €\n"
    assert sources["utf16.cs"].text == "class Grüße {}\n"
    assert {p: s.encoding for p, s in sources.items()} == {
        "latin1.py": "cp1252", "cp1252.txt": "cp1252", "utf16.cs": "utf-16", "utf8.py": "utf-8"}
    assert decode_text(b"\x81\x8d") == ("\x81\x8d", "latin-1")  # bytes Windows-1252 leaves undefined


@pytest.mark.django_db
def test_a_latin1_file_is_found_by_search_after_indexing(make_tree):
    from codeindex.services import index_repository, search

    root = make_tree({"legacy.py": "def calcule_la_façade_wolframite():\n    return 'crème'\n".encode("latin-1")})
    report = index_repository(root, "legacy")
    assert report.files_new == 1 and report.files_skipped == {}
    assert [h.path for h in search("wolframite", access=SYSTEM, repository="legacy")] == ["legacy.py"]


def test_a_large_binary_file_is_binary_and_a_large_text_file_too_large(make_tree, settings):
    settings.MCPRAG_MAX_FILE_BYTES = 100
    root = make_tree({
        "small.py": "x = 1\n",
        "big.bin": b"\x7fELF\x02\x01\x01\x00" + bytes(300),
        "big.txt": "a" * 101,
        "big_latin1.txt": "é".encode("latin-1") * 200,
    })
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["small.py"]
    assert tree.skipped == {SkipReason.BINARY: 1, SkipReason.TOO_LARGE: 2}


def test_files_over_the_size_limit_are_skipped_and_counted(make_tree, settings):
    settings.MCPRAG_MAX_FILE_BYTES = 100
    root = make_tree({"small.py": "x = 1\n", "exact.txt": "a" * 100, "big.txt": "a" * 101})
    tree = SourceTree(root)
    assert sorted(s.path for s in tree) == ["exact.txt", "small.py"]
    assert tree.skipped == {SkipReason.TOO_LARGE: 1}


def test_symlinks_leading_outside_the_root_are_not_followed(make_tree, tmp_path):
    outside = make_tree({"secret.py": "TOKEN = 'outside'\n", "dir/other.py": "x = 1\n"}, name="outside")
    root = make_tree({"real.py": "x = 1\n"})
    os.symlink(outside / "secret.py", root / "leak.py")
    os.symlink(outside / "dir", root / "leakdir")
    tree = SourceTree(root)
    assert sorted(s.path for s in tree) == ["real.py"]
    assert tree.skipped == {SkipReason.OUTSIDE_ROOT: 2}
    # a path through a linked directory (as a changed_files job may name it) is not read either
    assert tree.read("leakdir/other.py") is None
    assert tree.skipped == {SkipReason.OUTSIDE_ROOT: 3}


def test_a_symlink_to_a_file_inside_the_root_is_indexed_once_under_the_real_path(make_tree):
    root = make_tree({"pkg/real.py": "def only_once_marmot():\n    return 1\n", "docs/guide.md": "# Guide\n"})
    os.symlink(root / "pkg" / "real.py", root / "alias.py")
    os.symlink("../docs/guide.md", root / "pkg" / "guide.md")  # relative links too
    tree = SourceTree(root)
    assert sorted(s.path for s in tree) == ["docs/guide.md", "pkg/real.py"]
    assert tree.skipped == {SkipReason.SYMLINK: 2}


def test_special_files_are_skipped_without_being_opened(make_tree):
    root = make_tree({"a.py": "x = 1\n"})
    os.mkfifo(root / "pipe")
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["a.py"]  # reading the FIFO would block forever
    assert tree.skipped == {SkipReason.NOT_REGULAR: 1}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_are_reported(make_tree):
    root = make_tree({"a.py": "x = 1\n", "locked.py": "y = 2\n"})
    (root / "locked.py").chmod(0)
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["a.py"]
    assert tree.skipped == {SkipReason.UNREADABLE: 1}
    assert tree.errors == [("locked.py", "cannot read: Permission denied")]


def test_broken_symlinks_are_reported_as_unreadable(make_tree):
    root = make_tree({"a.py": "x = 1\n"})
    os.symlink(root / "missing.py", root / "dangling.py")
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["a.py"]
    assert tree.skipped == {SkipReason.UNREADABLE: 1}
    assert tree.errors == [("dangling.py", "cannot read: No such file or directory")]


def test_file_names_that_are_not_utf8_are_reported(make_tree):
    root = make_tree({"a.py": "x = 1\n"})
    (root / os.fsdecode(b"caf\xe9.py")).write_text("y = 2\n")
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["a.py"]
    assert tree.skipped == {SkipReason.UNREADABLE: 1}
    assert tree.errors == [("caf\\udce9.py", "file name is not valid UTF-8")]


def test_file_names_with_a_control_character_are_reported_not_indexed(make_tree):
    """A newline in a name would split grep's and search's ``path:line:text`` lines: a repository
    could forge lines in an agent's answer."""
    root = make_tree({"a.py": "x = 1\n"})
    (root / "names\nevil.py:1:1:pwned").write_text("y = 2\n")
    (root / "tab\there.py").write_text("z = 3\n")
    tree = SourceTree(root)
    assert [s.path for s in tree] == ["a.py"]
    assert sorted(tree.errors) == [("names\\nevil.py:1:1:pwned", "file name has a control character (a newline, a tab …)"),
                                   ("tab\\there.py", "file name has a control character (a newline, a tab …)")]
    assert SourceTree(root, only=["names\nevil.py:1:1:pwned", "a.py"]).paths() == ["a.py"]
