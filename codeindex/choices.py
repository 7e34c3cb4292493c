"""Closed sets of values codeindex stores or reports: languages, chunk kinds, skip reasons.

Call sites use these constants, never bare strings. ``language_for_path`` maps a file name to a
``Language`` value, e.g. ``language_for_path("src/app/main.ts") == Language.TYPESCRIPT``.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.db import models

__all__ = ["Language", "ChunkKind", "SkipReason", "LANGUAGE_BY_EXTENSION", "LANGUAGE_BY_FILENAME", "language_for_path"]


class Language(models.TextChoices):
    """The language a file is written in, decided from its name (never from its content)."""

    PYTHON = "python", "Python"
    JAVASCRIPT = "javascript", "JavaScript"
    TYPESCRIPT = "typescript", "TypeScript"
    GO = "go", "Go"
    RUST = "rust", "Rust"
    JAVA = "java", "Java"
    KOTLIN = "kotlin", "Kotlin"
    SCALA = "scala", "Scala"
    SWIFT = "swift", "Swift"
    C = "c", "C"
    CPP = "cpp", "C++"
    CSHARP = "csharp", "C#"
    RUBY = "ruby", "Ruby"
    PHP = "php", "PHP"
    SHELL = "shell", "Shell"
    SQL = "sql", "SQL"
    HTML = "html", "HTML"
    CSS = "css", "CSS"
    JSON = "json", "JSON"
    YAML = "yaml", "YAML"
    TOML = "toml", "TOML"
    XML = "xml", "XML"
    MARKDOWN = "markdown", "Markdown"
    RESTRUCTUREDTEXT = "rst", "reStructuredText"
    TEXT = "text", "Plain text"


class ChunkKind(models.TextChoices):
    """What a chunk covers: a syntax unit (Python) or a window of lines (everything else)."""

    FUNCTION = "function", "Function"
    METHOD = "method", "Method"
    CLASS = "class", "Class"
    MODULE = "module", "Module-level code"
    WINDOW = "window", "Line window"


class SkipReason(models.TextChoices):
    """Why a file that ``.gitignore`` did not exclude was still left out of the index."""

    BINARY = "binary", "Binary (NUL byte or not UTF-8)"
    TOO_LARGE = "too_large", "Larger than MCPRAG_MAX_FILE_BYTES"
    OUTSIDE_ROOT = "outside_root", "Symbolic link pointing outside the repository"
    NOT_REGULAR = "not_regular", "Not a regular file (socket, FIFO, device)"
    UNREADABLE = "unreadable", "Could not be read (see errors)"


LANGUAGE_BY_EXTENSION: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), Language.PYTHON),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), Language.JAVASCRIPT),
    **dict.fromkeys((".ts", ".mts", ".cts", ".tsx"), Language.TYPESCRIPT),
    ".go": Language.GO,
    ".rs": Language.RUST,
    ".java": Language.JAVA,
    **dict.fromkeys((".kt", ".kts"), Language.KOTLIN),
    **dict.fromkeys((".scala", ".sc"), Language.SCALA),
    ".swift": Language.SWIFT,
    **dict.fromkeys((".c", ".h"), Language.C),
    **dict.fromkeys((".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp"), Language.CPP),
    **dict.fromkeys((".cs", ".csx"), Language.CSHARP),
    **dict.fromkeys((".rb", ".rake", ".gemspec"), Language.RUBY),
    **dict.fromkeys((".php", ".phtml"), Language.PHP),
    **dict.fromkeys((".sh", ".bash", ".zsh", ".fish", ".ksh"), Language.SHELL),
    ".sql": Language.SQL,
    **dict.fromkeys((".html", ".htm", ".xhtml", ".jinja", ".j2"), Language.HTML),
    **dict.fromkeys((".css", ".scss", ".sass", ".less"), Language.CSS),
    **dict.fromkeys((".json", ".jsonc", ".json5"), Language.JSON),
    **dict.fromkeys((".yaml", ".yml"), Language.YAML),
    ".toml": Language.TOML,
    **dict.fromkeys((".xml", ".xsd", ".xsl", ".svg"), Language.XML),
    **dict.fromkeys((".md", ".markdown", ".mdx"), Language.MARKDOWN),
    **dict.fromkeys((".rst", ".rest"), Language.RESTRUCTUREDTEXT),
    **dict.fromkeys((".txt", ".text"), Language.TEXT),
}

LANGUAGE_BY_FILENAME: dict[str, str] = {
    "Rakefile": Language.RUBY,
    "Gemfile": Language.RUBY,
    "Vagrantfile": Language.RUBY,
    "SConstruct": Language.PYTHON,
    "SConscript": Language.PYTHON,
}


def language_for_path(path: str) -> str:
    """The ``Language`` value for a relative posix ``path``; ``Language.TEXT`` when unknown.

    The extension is matched case-insensitively (``README.MD`` is Markdown); a few well-known
    extensionless names (``Rakefile``) are matched exactly.
    """
    name = PurePosixPath(path).name
    if name in LANGUAGE_BY_FILENAME:
        return LANGUAGE_BY_FILENAME[name]
    return LANGUAGE_BY_EXTENSION.get(PurePosixPath(name.lower()).suffix, Language.TEXT)
